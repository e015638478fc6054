using System.Text.Json;
using System.Text.Json.Nodes;
using FederatedPrompts.Cli.Bench;
using FederatedPrompts.Discrete.BlackBox;

namespace FederatedPrompts.Cli.Simulation;

/// <summary>
/// report.{json,md,png}: the coordinator's run report with the simulation's references added (<c>references</c>, with
/// <c>black_box</c> in a run with discrete prompts; and
/// <c>full_pt_large</c> and <c>gap_recovered</c> in the soft mode's <c>transfer</c>), per mode of the run a table per round
/// and the gain in words, and a plot of held-out accuracy per round (one curve per mode) on a 0–1 axis with the
/// references drawn beside it.
/// </summary>
public static class SimulationReport
{
    public static IReadOnlyList<string> Write(string outputDir, string reportJson, SimulationReferences references)
    {
        var root = JsonNode.Parse(reportJson)!.AsObject();
        root["references"] = new JsonObject
        {
            ["zero_shot_small"] = references.ZeroShotSmall, ["zero_shot_large"] = references.ZeroShotLarge,
            ["full_pt_large"] = references.FullPtLarge,
        };
        if (references.BlackBox is { } box)
            root["references"]!["black_box"] = new JsonObject { ["name"] = box.Name, ["zero_shot"] = box.ZeroShot, ["manual_prompt"] = box.ManualPrompt };
        double? gapRecovered = null;
        if (root["modes"]?["soft"]?["transfer"] is JsonObject transferNode && references.FullPtLarge is double fullPt)
        {
            transferNode["full_pt_large"] = fullPt;
            double zeroShot = transferNode["zero_shot_large"]!.GetValue<double>(), transferred = transferNode["transferred_large"]!.GetValue<double>();
            // Undefined where full prompt tuning does not move the large model (0/0).
            gapRecovered = fullPt - zeroShot > 1e-9 ? (transferred - zeroShot) / (fullPt - zeroShot) : null;
            transferNode["gap_recovered"] = gapRecovered;
        }
        var report = JsonDocument.Parse(root.ToJsonString()).RootElement;
        var modes = report.GetProperty("modes").EnumerateObject().Select(m => m.Name).ToList();
        var rounds = report.GetProperty("rounds").EnumerateArray().ToList();
        static string Percent(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble().ToString("P1") : "";
        // One mode's part of each round that has it.
        List<(int Round, double? Seconds, JsonElement Part)> PartsOf(string mode) => rounds
            .Select(r => (r.GetProperty("round").GetInt32(), r.GetProperty("seconds") is { ValueKind: JsonValueKind.Number } s ? s.GetDouble() : (double?)null,
                r.GetProperty("modes").GetProperty(mode)))
            .ToList();

        var markdown = new BenchReport("report", $"Federated run {report.GetProperty("run_id").GetString()}")
            .Paragraph($"Mode {report.GetProperty("mode").GetString()} (strategy " +
                       string.Join(", ", modes.Select(m => $"{m}: {report.GetProperty("modes").GetProperty(m).GetProperty("strategy").GetString()}")) + "), " +
                       $"{report.GetProperty("clients").GetArrayLength()} clients, state {report.GetProperty("state").GetString()}.");
        var curves = new List<(string Label, double[] X, double[] Y)>();
        foreach (string mode in modes)
        {
            bool soft = mode == "soft";
            var parts = PartsOf(mode);
            markdown.Paragraph(soft
                    ? "**Soft prompts.** Held-out accuracy is the small model's with the global soft prompt."
                    : $"**Discrete prompts.** Held-out accuracy is the black box's ({BlackBoxes.Describe(references.BlackBox!.Name)}) with the global discrete prompt.")
                .Table(["round", "updates", "mean upload bytes", "local accuracy before → after (mean)", "held-out accuracy", "macro accuracy", "prompt length", "seconds"],
                    parts.Select(p => (IReadOnlyList<string>)[
                        p.Round.ToString(), p.Part.GetProperty("uploads").ToString(),
                        p.Part.GetProperty("mean_upload_bytes").ValueKind == JsonValueKind.Number ? p.Part.GetProperty("mean_upload_bytes").GetDouble().ToString("F0") : "",
                        $"{Percent(p.Part, "mean_local_accuracy_before")} → {Percent(p.Part, "mean_local_accuracy_after")}", Percent(p.Part, "accuracy"),
                        p.Part.TryGetProperty("notes", out var notes) && notes.ValueKind == JsonValueKind.Object ? Percent(notes, "macro_accuracy") : "",
                        p.Part.GetProperty("prompt_length").ToString(), p.Seconds?.ToString("F1") ?? ""]));
            var evaluated = parts.Where(p => p.Part.GetProperty("accuracy").ValueKind == JsonValueKind.Number).ToList();
            double start = soft ? references.ZeroShotSmall : references.BlackBox!.ManualPrompt;
            string startName = soft ? "small model zero-shot" : "manual prompt";
            if (evaluated.Count > 0)
            {
                double last = evaluated[^1].Part.GetProperty("accuracy").GetDouble();
                markdown.Paragraph($"Gain: held-out accuracy {last:P1} after round {evaluated[^1].Round}, " +
                    $"{(last - start) * 100:+0.0;-0.0} points over the {startName} ({start:P1}); round by round: " +
                    string.Join(" → ", evaluated.Select(p => p.Part.GetProperty("accuracy").GetDouble().ToString("P1"))) + ".");
            }
            curves.Add((soft ? "soft global prompt (small model)" : $"discrete global prompt ({(references.BlackBox!.Name == BlackBoxes.Lm ? "large model" : references.BlackBox.Name)})",
                evaluated.Select(p => (double)p.Round).ToArray(), evaluated.Select(p => p.Part.GetProperty("accuracy").GetDouble()).ToArray()));
        }
        markdown.Paragraph($"References on the held-out set: zero-shot small model {references.ZeroShotSmall:P1}, large model {references.ZeroShotLarge:P1}" +
            (references.BlackBox is { } b ? $"; the black box ({b.Name}) zero-shot {b.ZeroShot:P1}, with the manual prompt {b.ManualPrompt:P1}" : "") +
            (references.FullPtLarge is double full ? $", full prompt tuning of the large model on the pooled private data {full:P1} (a reference only a simulation can compute)" : "") + ".");
        JsonElement? transfer = report.GetProperty("modes").TryGetProperty("soft", out var softMode) && softMode.GetProperty("transfer") is { ValueKind: JsonValueKind.Object } t ? t : null;
        if (transfer is { } tr)
            markdown.Paragraph($"POST transfer to the large model (α = {tr.GetProperty("alpha").GetDouble():F2}, {tr.GetProperty("alpha_source").GetString()}): " +
                $"zero-shot {Percent(tr, "zero_shot_large")}, small-model prompt used directly {Percent(tr, "direct_large")}, " +
                $"transferred {Percent(tr, "transferred_large")} (small model with its prompt: {Percent(tr, "small_with_prompt")}), " +
                $"full prompt tuning {Percent(tr, "full_pt_large")}: " +
                (gapRecovered is double gap ? $"the transfer recovers {gap:P0} of the zero-shot → full-prompt-tuning gap." : "no gap to recover (full prompt tuning did not beat zero-shot)."));

        return markdown.Write(outputDir, report, plot =>
        {
            foreach (var (label, xs, ys) in curves)
            {
                var curve = plot.Add.Scatter(xs, ys);
                curve.LegendText = label;
                curve.MarkerSize = 8;
            }
            void Reference(double value, string label, ScottPlot.Color color)
            {
                var line = plot.Add.HorizontalLine(value);
                line.LegendText = $"{label} ({value:P1})";
                line.Color = color;
                line.LinePattern = ScottPlot.LinePattern.Dashed;
            }
            if (modes.Contains("soft"))
            {
                Reference(references.ZeroShotSmall, "small model zero-shot", ScottPlot.Colors.Gray);
                Reference(references.ZeroShotLarge, "large model zero-shot", ScottPlot.Colors.Orange);
            }
            if (references.BlackBox is { } manual) Reference(manual.ManualPrompt, "manual prompt", ScottPlot.Colors.Purple);
            if (references.FullPtLarge is double fullPt) Reference(fullPt, "large model full prompt tuning", ScottPlot.Colors.Green);
            int lastRound = Math.Max(1, rounds.Count);
            if (transfer is { } tt && curves.Any(c => c.X.Length > 0))
            {
                var transferred = plot.Add.Scatter(new[] { (double)lastRound }, new[] { tt.GetProperty("transferred_large").GetDouble() });
                transferred.LegendText = $"POST transfer to the large model ({tt.GetProperty("transferred_large").GetDouble():P1})";
                transferred.MarkerSize = 12;
                transferred.MarkerShape = ScottPlot.MarkerShape.FilledDiamond;
                transferred.LineWidth = 0;
            }
            // Accuracy is a fraction: the whole 0–1 range, so a rise is seen at its true size; rounds are whole numbers.
            plot.Axes.SetLimitsY(0, 1.05);
            plot.Axes.SetLimitsX(0.5, lastRound + 0.5);
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                Enumerable.Range(1, lastRound).Select(i => (double)i).ToArray(), Enumerable.Range(1, lastRound).Select(i => i.ToString()).ToArray());
            plot.XLabel("round");
            plot.YLabel("held-out accuracy");
            plot.ShowLegend(ScottPlot.Alignment.LowerRight);
        });
    }
}
