using System.Text.Json;
using System.Text.Json.Nodes;
using FederatedPrompts.Cli.Bench;

namespace FederatedPrompts.Cli.Simulation;

/// <summary>
/// report.{json,md,png}: the coordinator's run report with the simulation's references added (<c>references</c>, and
/// <c>full_pt_large</c> and <c>gap_recovered</c> in <c>transfer</c>), a table per round, the gain in words, and a plot of
/// held-out accuracy per round on a 0–1 axis with the references drawn beside it.
/// </summary>
public static class SimulationReport
{
    public static IReadOnlyList<string> Write(string outputDir, string reportJson, SimulationReferences references)
    {
        var root = JsonNode.Parse(reportJson)!.AsObject();
        root["references"] = new JsonObject
        {
            ["zero_shot_small"] = references.ZeroShotSmall, ["zero_shot_large"] = references.ZeroShotLarge,
            ["full_pt_large"] = references.FullPtLarge, ["manual_prompt_large"] = references.ManualPromptLarge,
        };
        double? gapRecovered = null;
        if (root["transfer"] is JsonObject transferNode && references.FullPtLarge is double fullPt)
        {
            transferNode["full_pt_large"] = fullPt;
            double zeroShot = transferNode["zero_shot_large"]!.GetValue<double>(), transferred = transferNode["transferred_large"]!.GetValue<double>();
            // Undefined where full prompt tuning does not move the large model (0/0).
            gapRecovered = fullPt - zeroShot > 1e-9 ? (transferred - zeroShot) / (fullPt - zeroShot) : null;
            transferNode["gap_recovered"] = gapRecovered;
        }
        var report = JsonDocument.Parse(root.ToJsonString()).RootElement;

        var rounds = report.GetProperty("rounds").EnumerateArray().ToList();
        static string Percent(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble().ToString("P1") : "";
        bool soft = report.GetProperty("mode").GetString() == "soft";
        var markdown = new BenchReport("report", $"Federated run {report.GetProperty("run_id").GetString()}")
            .Paragraph($"Mode {report.GetProperty("mode").GetString()}, strategy {report.GetProperty("strategy").GetString()}, " +
                       $"{report.GetProperty("clients").GetArrayLength()} clients, state {report.GetProperty("state").GetString()}. " +
                       (soft ? "Held-out accuracy is the small model's with the global soft prompt."
                             : "Held-out accuracy is the large model's (the black box) with the global discrete prompt."))
            .Table(["round", "updates", "mean upload bytes", "local accuracy before → after (mean)", "held-out accuracy", "macro accuracy", "prompt length", "seconds"],
                rounds.Select(r => (IReadOnlyList<string>)[
                    r.GetProperty("round").ToString(), r.GetProperty("uploads").ToString(),
                    r.GetProperty("mean_upload_bytes").ValueKind == JsonValueKind.Number ? r.GetProperty("mean_upload_bytes").GetDouble().ToString("F0") : "",
                    $"{Percent(r, "mean_local_accuracy_before")} → {Percent(r, "mean_local_accuracy_after")}", Percent(r, "accuracy"),
                    r.TryGetProperty("notes", out var notes) && notes.ValueKind == JsonValueKind.Object ? Percent(notes, "macro_accuracy") : "",
                    r.GetProperty("prompt_length").ToString(),
                    r.GetProperty("seconds").ValueKind == JsonValueKind.Number ? r.GetProperty("seconds").GetDouble().ToString("F1") : ""]));

        var accuracy = rounds.Where(r => r.GetProperty("accuracy").ValueKind == JsonValueKind.Number).ToList();
        double start = soft ? references.ZeroShotSmall : references.ManualPromptLarge!.Value;
        string startName = soft ? "small model zero-shot" : "manual prompt";
        if (accuracy.Count > 0)
        {
            double last = accuracy[^1].GetProperty("accuracy").GetDouble();
            markdown.Paragraph($"Gain: held-out accuracy {last:P1} after round {accuracy[^1].GetProperty("round").GetInt32()}, " +
                $"{(last - start) * 100:+0.0;-0.0} points over the {startName} ({start:P1}); round by round: " +
                string.Join(" → ", accuracy.Select(r => r.GetProperty("accuracy").GetDouble().ToString("P1"))) + ".");
        }
        markdown.Paragraph($"References on the held-out set: zero-shot small model {references.ZeroShotSmall:P1}, large model {references.ZeroShotLarge:P1}" +
            (references.ManualPromptLarge is double manual ? $", large model with the manual prompt {manual:P1}" : "") +
            (references.FullPtLarge is double full ? $", full prompt tuning of the large model on the pooled private data {full:P1} (a reference only a simulation can compute)" : "") + ".");
        if (report.TryGetProperty("transfer", out var transfer) && transfer.ValueKind == JsonValueKind.Object)
            markdown.Paragraph($"POST transfer to the large model (α = {transfer.GetProperty("alpha").GetDouble():F2}, {transfer.GetProperty("alpha_source").GetString()}): " +
                $"zero-shot {Percent(transfer, "zero_shot_large")}, small-model prompt used directly {Percent(transfer, "direct_large")}, " +
                $"transferred {Percent(transfer, "transferred_large")} (small model with its prompt: {Percent(transfer, "small_with_prompt")}), " +
                $"full prompt tuning {Percent(transfer, "full_pt_large")}: " +
                (gapRecovered is double gap ? $"the transfer recovers {gap:P0} of the zero-shot → full-prompt-tuning gap." : "no gap to recover (full prompt tuning did not beat zero-shot)."));

        return markdown.Write(outputDir, report, plot =>
        {
            var xs = accuracy.Select(r => (double)r.GetProperty("round").GetInt32()).ToArray();
            var curve = plot.Add.Scatter(xs, accuracy.Select(r => r.GetProperty("accuracy").GetDouble()).ToArray());
            curve.LegendText = soft ? "global prompt (small model)" : "global prompt (large model)";
            curve.MarkerSize = 8;
            void Reference(double value, string label, ScottPlot.Color color)
            {
                var line = plot.Add.HorizontalLine(value);
                line.LegendText = $"{label} ({value:P1})";
                line.Color = color;
                line.LinePattern = ScottPlot.LinePattern.Dashed;
            }
            Reference(start, startName, ScottPlot.Colors.Gray);
            if (soft) Reference(references.ZeroShotLarge, "large model zero-shot", ScottPlot.Colors.Orange);
            if (references.FullPtLarge is double fullPt) Reference(fullPt, "large model full prompt tuning", ScottPlot.Colors.Green);
            if (report.TryGetProperty("transfer", out var t) && t.ValueKind == JsonValueKind.Object && xs.Length > 0)
            {
                var transferred = plot.Add.Scatter(new[] { xs[^1] }, new[] { t.GetProperty("transferred_large").GetDouble() });
                transferred.LegendText = $"POST transfer to the large model ({t.GetProperty("transferred_large").GetDouble():P1})";
                transferred.MarkerSize = 12;
                transferred.MarkerShape = ScottPlot.MarkerShape.FilledDiamond;
                transferred.LineWidth = 0;
            }
            // Accuracy is a fraction: the whole 0–1 range, so a rise is seen at its true size; rounds are whole numbers.
            plot.Axes.SetLimitsY(0, 1.05);
            int lastRound = Math.Max(1, xs.Length == 0 ? 1 : (int)xs.Max());
            plot.Axes.SetLimitsX(0.5, lastRound + 0.5);
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                Enumerable.Range(1, lastRound).Select(i => (double)i).ToArray(), Enumerable.Range(1, lastRound).Select(i => i.ToString()).ToArray());
            plot.XLabel("round");
            plot.YLabel("held-out accuracy");
            plot.ShowLegend(ScottPlot.Alignment.LowerRight);
        });
    }
}
