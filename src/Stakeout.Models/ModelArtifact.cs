using System.Text.Json;
using System.Text.Json.Serialization;
using Stakeout.Models.Anomaly;
using Stakeout.Models.Drift;

namespace Stakeout.Models;

/// <summary>How strictly an artifact is checked when it is loaded.</summary>
public sealed record ArtifactLoadOptions
{
    /// <summary>Refuse an artifact without a signature.</summary>
    public bool RequireSigned { get; init; }

    /// <summary>When not empty, the artifact must be signed by one of these raw Ed25519 public keys (unsigned is refused).</summary>
    public IReadOnlyCollection<byte[]> TrustedKeys { get; init; } = [];
}

/// <summary>
/// A trained model as a file: the manifest (what it is, what it expects, how it was made) and the model parameters
/// (the payload, in the format that <see cref="ModelManifest.ModelKind"/> names), framed, hashed and optionally signed
/// by <see cref="ArtifactContainer"/>. This is all the detection runtime needs: no training code, no ML.NET.
/// </summary>
public sealed class ModelArtifact
{
    /// <summary>Section holding the manifest (UTF-8 JSON).</summary>
    public const string ManifestSection = "manifest";

    /// <summary>Section holding the model parameters.</summary>
    public const string PayloadSection = "model";

    /// <summary>Section holding the anomaly model (format version 2, optional): <see cref="HistogramAnomalyModel"/> as JSON.</summary>
    public const string AnomalySection = "anomaly";

    /// <summary>Section holding the training-data profile for drift checks (format version 2, optional): <see cref="TrainingProfile"/> as JSON.</summary>
    public const string ProfileSection = "profile";

    internal static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private readonly string _source;
    private IFlowScorer? _scorer;

    private ModelArtifact(ModelManifest manifest, byte[] payload, string? sha256, ArtifactSignature? signature, int formatVersion, string source, HistogramAnomalyModel? anomaly, TrainingProfile? profile)
    {
        _source = source;
        AnomalyModel = anomaly;
        Profile = profile;
        AnomalyScorer = anomaly is null ? null : AnomalyScorer.Compile(anomaly, source);
        Manifest = manifest;
        Payload = payload;
        Sha256 = sha256;
        Signature = signature;
        FormatVersion = formatVersion;
    }

    /// <summary>What the model is and expects.</summary>
    public ModelManifest Manifest { get; }

    /// <summary>The model parameters, in the format <see cref="ModelManifest.ModelKind"/> names.</summary>
    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>SHA-256 of the artifact file as read (its digest line), or null for an artifact not yet written.</summary>
    public string? Sha256 { get; }

    /// <summary>The verified signature, when the file had one.</summary>
    public ArtifactSignature? Signature { get; }

    /// <summary>The container format version it was read from (or will be written in).</summary>
    public int FormatVersion { get; }

    /// <summary>The anomaly model fitted on benign flows, or null (every format-1 artifact, and models trained without one).</summary>
    public HistogramAnomalyModel? AnomalyModel { get; }

    /// <summary>The compiled anomaly scorer, or null when the artifact has no anomaly model.</summary>
    public AnomalyScorer? AnomalyScorer { get; }

    /// <summary>The training-data profile for drift checks, or null (every format-1 artifact).</summary>
    public TrainingProfile? Profile { get; }

    /// <summary>A new, unsaved artifact, with an anomaly model and a training profile when given.</summary>
    public static ModelArtifact Create(ModelManifest manifest, byte[] payload, HistogramAnomalyModel? anomaly = null, TrainingProfile? profile = null)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(payload);
        return new ModelArtifact(manifest, payload, null, null, ArtifactContainer.CurrentVersion, "(unsaved artifact)", anomaly, profile);
    }

    /// <summary>Reads and verifies an artifact file; throws <see cref="ArtifactException"/> saying what is wrong and why.</summary>
    public static ModelArtifact Load(string path, ArtifactLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: no such model artifact.", path);
        }

        return Read(File.ReadAllBytes(path), path, options);
    }

    /// <summary>Reads and verifies artifact bytes; <paramref name="source"/> names them in errors.</summary>
    public static ModelArtifact Read(ReadOnlySpan<byte> bytes, string source, ArtifactLoadOptions? options = null)
    {
        options ??= new ArtifactLoadOptions();
        var (sections, sha256, signature, version) = ArtifactContainer.Read(bytes, source, options.RequireSigned, options.TrustedKeys);
        byte[] manifestBytes = Find(sections, ManifestSection, source);
        byte[] payload = Find(sections, PayloadSection, source);
        ModelManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<ModelManifest>(manifestBytes, JsonOptions);
        }
        catch (JsonException e)
        {
            throw new ArtifactException(source, ArtifactProblem.Malformed, $"the manifest is not valid JSON ({e.Message}).");
        }

        if (manifest is null)
        {
            throw new ArtifactException(source, ArtifactProblem.Malformed, "the manifest is empty.");
        }

        ManifestValidation.Check(manifest, source);
        byte[]? anomalyBytes = sections.FirstOrDefault(s => s.Name == AnomalySection)?.Content;
        byte[]? profileBytes = sections.FirstOrDefault(s => s.Name == ProfileSection)?.Content;
        if (version < 2 && (anomalyBytes is not null || profileBytes is not null))
        {
            throw new ArtifactException(source, ArtifactProblem.Malformed, $"format version {version} has no '{AnomalySection}' or '{ProfileSection}' section; this file has one.");
        }

        var anomaly = anomalyBytes is null ? null : HistogramAnomalyModel.Parse(anomalyBytes, source);
        var profile = profileBytes is null ? null : TrainingProfile.Parse(profileBytes, manifest.Classes, source);
        var artifact = new ModelArtifact(manifest, payload, sha256, signature, version, source, anomaly, profile);

        // Compiling now means a payload that does not match its manifest fails the load, not the first scoring call.
        artifact._scorer = ScorerFactory.Create(manifest, payload, source);
        return artifact;
    }

    /// <summary>The artifact's bytes, signed when <paramref name="signer"/> is given.</summary>
    public byte[] ToBytes(ModelSigningKey? signer = null)
    {
        byte[] manifest = JsonSerializer.SerializeToUtf8Bytes(Manifest, JsonOptions);
        var sections = new List<ArtifactSection> { new(ManifestSection, manifest), new(PayloadSection, Payload.ToArray()) };
        if (AnomalyModel is not null)
        {
            sections.Add(new ArtifactSection(AnomalySection, AnomalyModel.ToJson()));
        }

        if (Profile is not null)
        {
            sections.Add(new ArtifactSection(ProfileSection, Profile.ToJson()));
        }

        return ArtifactContainer.Write(sections, signer);
    }

    /// <summary>Writes the artifact atomically (a temporary file renamed into place) and returns it as read back.</summary>
    public ModelArtifact Save(string path, ModelSigningKey? signer = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes = ToBytes(signer);

        // Read back before writing: an artifact this Stakeout could not load is never put on disk.
        var written = Read(bytes, path);
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = full + ".tmp-" + Environment.ProcessId;
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, full, overwrite: true);
        return written;
    }

    /// <summary>
    /// The model compiled into a fast, thread-safe scorer (compiled once: an artifact read from bytes was compiled when
    /// it was read). Throws <see cref="ArtifactException"/> for a payload it cannot compile.
    /// </summary>
    public IFlowScorer CreateScorer()
    {
        var scorer = _scorer ?? ScorerFactory.Create(Manifest, Payload.Span, _source);
        Interlocked.CompareExchange(ref _scorer, scorer, null);
        return _scorer;
    }

    private static byte[] Find(IReadOnlyList<ArtifactSection> sections, string name, string source) =>
        sections.FirstOrDefault(s => s.Name == name)?.Content
        ?? throw new ArtifactException(source, ArtifactProblem.Malformed, $"it has no '{name}' section.");
}
