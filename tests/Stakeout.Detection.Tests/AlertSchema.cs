using System.Text.Json.Nodes;
using Json.Schema;

namespace Stakeout.Detection.Tests;

/// <summary>Validates EVE lines against the shipped alert schema (the embedded resource of Stakeout.Detection).</summary>
internal static class AlertSchema
{
    private static readonly Lazy<JsonSchema> Schema = new(() =>
    {
        using var stream = typeof(EveWriter).Assembly.GetManifestResourceStream("Stakeout.Detection.alert.schema.json")
            ?? throw new InvalidOperationException("alert.schema.json is not embedded in Stakeout.Detection.");
        using var reader = new StreamReader(stream);
        return JsonSchema.FromText(reader.ReadToEnd());
    });

    /// <summary>Asserts that <paramref name="line"/> is one JSON object, without duplicate keys, valid under the schema.</summary>
    public static JsonObject AssertValid(string line)
    {
        Assert.DoesNotContain('\n', line);
        var node = JsonNode.Parse(line, documentOptions: new System.Text.Json.JsonDocumentOptions { AllowDuplicateProperties = false });
        var obj = Assert.IsType<JsonObject>(node);
        using var document = System.Text.Json.JsonDocument.Parse(line);
        var result = Schema.Value.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, $"alert does not match alert.schema.json: {line}\n{string.Join("\n", (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")))}");
        return obj;
    }
}
