using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Stakeout.Models;

namespace Stakeout.Cli;

/// <summary>`stakeout keys ...` (signing keys) and `stakeout model ...` (look at a model artifact).</summary>
internal static class ModelCommands
{
    /// <summary>The `keys` and `model` command groups.</summary>
    public static IEnumerable<Command> Create() => [CreateKeys(), CreateModel()];

    private static Command CreateKeys()
    {
        var keys = new Command("keys", "Ed25519 keys that sign model artifacts.");
        var output = new Option<DirectoryInfo>("--out", "-o") { Description = "Directory to write the key pair into (created if absent).", Required = true };
        var name = new Option<string>("--name") { Description = "Base name of the key files.", DefaultValueFactory = _ => "stakeout-signing" };
        var x25519 = new Option<bool>("--x25519") { Description = "An X25519 key pair instead, for reading sealed ledger records (default name stakeout-recipient)." };
        var create = new Command(
            "new",
            """
            Create a new Ed25519 key pair for signing model artifacts: NAME.key (private, file mode 0600: keep it secret)
            and NAME.pub (public: give it to whoever loads the models, for --trusted-key). Existing files are never overwritten.

            Examples:
              stakeout keys new --out ~/.stakeout
              stakeout keys new --out keys/ --name release-2026
              stakeout keys new --out keys/ --x25519 --name soc
            """)
        {
            output, name, x25519,
        };
        create.SetAction(parse => parse.GetValue(x25519)
            ? LedgerCommands.NewRecipientKeys(parse.GetValue(output)!.FullName, parse.GetResult(name) is { Implicit: false } ? parse.GetValue(name)! : "stakeout-recipient")
            : NewKeys(parse.GetValue(output)!, parse.GetValue(name)!));
        keys.Subcommands.Add(create);
        return keys;
    }

    private static Command CreateModel()
    {
        var model = new Command("model", "Inspect and verify model artifacts.");
        var path = new Argument<FileInfo>("MODEL") { Description = "The model artifact (.stakeout)." };
        var json = new Option<bool>("--json") { Description = "Print the verified manifest and integrity facts as JSON on stdout." };
        var requireSigned = new Option<bool>("--require-signed") { Description = "Refuse an artifact without a signature." };
        var trusted = new Option<FileInfo[]>("--trusted-key")
        {
            Description = "A public key file (from `stakeout keys new`) whose signature is accepted; repeatable. Implies --require-signed.",
            AllowMultipleArgumentsPerToken = false,
        };
        var show = new Command(
            "show",
            """
            Verify a model artifact (every section's SHA-256, the file digest, the Ed25519 signature when present, the
            manifest against this Stakeout's feature schema, and the model payload) and print its summary: kind, features,
            classes, threshold, metrics, training data, lineage, digest and signer. Exit code 1 says what is wrong and why.

            Examples:
              stakeout model show models/cicids2017.stakeout
              stakeout model show model.stakeout --require-signed --trusted-key ~/.stakeout/stakeout-signing.pub
              stakeout model show model.stakeout --json | jq .manifest.metrics
            """)
        {
            path, json, requireSigned, trusted,
        };
        show.SetAction(parse => Show(parse.GetValue(path)!, parse.GetValue(json), parse.GetValue(requireSigned), parse.GetValue(trusted) ?? []));
        model.Subcommands.Add(show);
        return model;
    }

    private static int NewKeys(DirectoryInfo directory, string name)
    {
        if (name.Length == 0 || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || name.Contains('/', StringComparison.Ordinal))
        {
            return Terminal.Fail($"--name '{name}' is not a file name.");
        }

        string privatePath = Path.Combine(directory.FullName, name + ".key");
        string publicPath = Path.Combine(directory.FullName, name + ".pub");
        foreach (string existing in new[] { privatePath, publicPath }.Where(File.Exists))
        {
            return Terminal.Fail($"{existing} already exists; keys are never overwritten (choose another --out or --name).");
        }

        try
        {
            Directory.CreateDirectory(directory.FullName);
            using var key = ModelSigningKey.Create();
            key.SavePrivateKey(privatePath);
            key.SavePublicKey(publicPath);
            Terminal.Out.MarkupLine($"Key id [bold]{key.KeyId}[/]");
            Terminal.Out.MarkupLine($"  private  {Markup.Escape(privatePath)}  (mode 0600: keep it secret; sign with --sign-key)");
            Terminal.Out.MarkupLine($"  public   {Markup.Escape(publicPath)}  (give it to verifiers: --trusted-key)");
            return 0;
        }
        catch (IOException e)
        {
            return Terminal.Fail(e.Message);
        }
        catch (UnauthorizedAccessException e)
        {
            return Terminal.Fail(e.Message);
        }
    }

    private static int Show(FileInfo file, bool asJson, bool requireSigned, FileInfo[] trustedKeyFiles)
    {
        ModelArtifact artifact;
        try
        {
            var trusted = trustedKeyFiles.Select(f => ModelSigningKey.LoadPublicKey(f.FullName)).ToList();
            artifact = ModelArtifact.Load(file.FullName, new ArtifactLoadOptions { RequireSigned = requireSigned || trusted.Count > 0, TrustedKeys = trusted });
        }
        catch (ArtifactException e)
        {
            return Terminal.Fail(e.Message, ExitCodes.For(e));
        }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException or UnauthorizedAccessException)
        {
            return Terminal.Fail(e.Message);
        }

        var document = new ModelShowDocument(
            file.FullName,
            artifact.FormatVersion,
            artifact.Sha256!,
            artifact.Signature is { } s ? new SignatureDocument(s.Algorithm, s.KeyId, Convert.ToBase64String(s.PublicKey)) : null,
            artifact.Payload.Length,
            artifact.Manifest);
        if (asJson)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(document, Json.Options));
            return 0;
        }

        Render(Terminal.Out, document);
        return 0;
    }

    private static void Render(IAnsiConsole console, ModelShowDocument d)
    {
        var m = d.Manifest;
        string F(double v) => v.ToString("0.######", CultureInfo.InvariantCulture);
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        void Row(string key, string value) => grid.AddRow(new Markup($"[grey]{key}[/]"), new Text(value));
        Row("file", d.Path);
        Row("verified", d.Signature is null ? "digest OK, unsigned" : $"digest OK, signature OK ({d.Signature.Algorithm}, key {d.Signature.KeyId})");
        Row("sha256", d.Sha256);
        Row("format", $"container v{d.FormatVersion}, manifest schema v{m.SchemaVersion}, written by Stakeout {m.StakeoutVersion} at {m.CreatedUtc:u}");
        Row("kind", $"{m.ModelKind} ({d.PayloadBytes.ToString("N0", CultureInfo.InvariantCulture)} bytes)");
        Row("classes", $"{m.Classes.Count} at level '{m.LabelLevel}': {string.Join(", ", m.Classes)} (benign: {m.BenignClass})");
        Row("threshold", $"{F(m.Threshold)} ({m.ThresholdSource}): alert when 1 - P({m.BenignClass}) >= threshold");
        Row("non-finite", m.NonFinite);
        Row("features", $"{m.Features.Count}: {string.Join(", ", m.Features.Select(f => $"{f.Index} {f.Name}"))}");
        Row("metrics", m.Metrics.Count == 0 ? "(none)" : string.Join(", ", m.Metrics.Select(kv => $"{kv.Key} {F(kv.Value)}")));
        var t = m.Training;
        Row("training", $"{t.Files.Count} file(s), {t.RowsRead.ToString("N0", CultureInfo.InvariantCulture)} rows read, {t.DuplicatesRemoved.ToString("N0", CultureInfo.InvariantCulture)} duplicates removed, split {t.Split} ({t.TrainRows.ToString("N0", CultureInfo.InvariantCulture)} train / {t.TestRows.ToString("N0", CultureInfo.InvariantCulture)} test, seed {t.Seed})");
        foreach (var f in t.Files)
        {
            Row("  file", $"{f.Path}  {f.Rows.ToString("N0", CultureInfo.InvariantCulture)} rows  sha256 {f.Sha256}");
        }

        Row("hyperparameters", m.Hyperparameters.Count == 0 ? "(none)" : string.Join(", ", m.Hyperparameters.Select(kv => $"{kv.Key}={kv.Value}")));
        Row("lineage", m.Lineage.Count == 0 ? "(none: trained from scratch)" : string.Join(" <- ", m.Lineage.Select(l => $"{l.Sha256[..Math.Min(16, l.Sha256.Length)]} ({l.CreatedUtc:u}: {l.Note})")));
        console.Write(grid);
    }
}

/// <summary>The JSON document of `model show`: field names are part of the CLI's contract; `manifest` is the artifact's own.</summary>
internal sealed record ModelShowDocument(string Path, int FormatVersion, string Sha256, SignatureDocument? Signature, int PayloadBytes, ModelManifest Manifest);

/// <summary>A verified signature in `model show --json`.</summary>
internal sealed record SignatureDocument(string Algorithm, string KeyId, string PublicKey);
