using System.Text.Json;
using FederatedPrompts.Cli.Bench;

namespace FederatedPrompts.Cli.Simulation;

/// <summary>report.{json,md,png}: the coordinator's run report, a table per round, and held-out accuracy per round.</summary>
public static class SimulationReport
{
    public static IReadOnlyList<string> Write(string outputDir, string reportJson)
    {
        var report = JsonDocument.Parse(reportJson).RootElement;
        var rounds = report.GetProperty("rounds").EnumerateArray().ToList();
        static string Percent(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble().ToString("P1") : "";
        var markdown = new BenchReport("report", $"Federated run {report.GetProperty("run_id").GetString()}")
            .Paragraph($"Mode {report.GetProperty("mode").GetString()}, strategy {report.GetProperty("strategy").GetString()}, " +
                       $"{report.GetProperty("clients").GetArrayLength()} clients, state {report.GetProperty("state").GetString()}.")
            .Table(["round", "updates", "mean upload bytes", "local accuracy before → after (mean)", "held-out accuracy", "held-out macro accuracy", "prompt length", "seconds"],
                rounds.Select(r => (IReadOnlyList<string>)[
                    r.GetProperty("round").ToString(), r.GetProperty("uploads").ToString(),
                    r.GetProperty("mean_upload_bytes").ValueKind == JsonValueKind.Number ? r.GetProperty("mean_upload_bytes").GetDouble().ToString("F0") : "",
                    $"{Percent(r, "mean_local_accuracy_before")} → {Percent(r, "mean_local_accuracy_after")}", Percent(r, "accuracy"),
                    r.GetProperty("notes") is { ValueKind: JsonValueKind.Object } notes ? Percent(notes, "macro_accuracy") : "",
                    r.GetProperty("prompt_length").ToString(),
                    r.GetProperty("seconds").ValueKind == JsonValueKind.Number ? r.GetProperty("seconds").GetDouble().ToString("F1") : ""]));
        if (report.GetProperty("transfer") is { ValueKind: JsonValueKind.Object } transfer)
            markdown.Paragraph($"POST transfer to the large model (α = {transfer.GetProperty("alpha").GetDouble():F2}, {transfer.GetProperty("alpha_source").GetString()}): " +
                $"zero-shot {Percent(transfer, "zero_shot_large")}, small-model prompt used directly {Percent(transfer, "direct_large")}, " +
                $"transferred {Percent(transfer, "transferred_large")} (small model with its prompt: {Percent(transfer, "small_with_prompt")})" +
                (transfer.TryGetProperty("best_step", out var best) && best.ValueKind == JsonValueKind.Number
                    ? $"; the published prompt is the best on the public labeled set, of step {best.GetInt32()} of {transfer.GetProperty("steps").GetInt32()}, " +
                      $"the last step's scores {Percent(transfer, "last_large")}."
                    : "."));
        var accuracy = rounds.Where(r => r.GetProperty("accuracy").ValueKind == JsonValueKind.Number).ToList();
        return markdown.Write(outputDir, report, "round", "held-out accuracy",
            [new PlotSeries("global prompt", accuracy.Select(r => (double)r.GetProperty("round").GetInt32()).ToList(),
                accuracy.Select(r => r.GetProperty("accuracy").GetDouble()).ToList())]);
    }
}
