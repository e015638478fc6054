using System.Text;
using System.Text.Json;
using ScottPlot;

namespace FederatedPrompts.Cli.Bench;

/// <summary>One line series of a benchmark plot.</summary>
public sealed record PlotSeries(string Label, IReadOnlyList<double> X, IReadOnlyList<double> Y);

/// <summary>
/// Every benchmark writes the same three files: <c>NAME.json</c> (all numbers, for machines), <c>NAME.md</c>
/// (tables for the README) and <c>NAME.png</c> (the plot), into one output folder.
/// </summary>
public sealed class BenchReport(string name, string title)
{
    readonly StringBuilder _markdown = new StringBuilder().AppendLine($"# {title}").AppendLine();

    /// <summary>The sentence that closes a benchmark's opening paragraph: cores, seed, and the setup stages that ran, if any.</summary>
    public static string RunConditions(int seed, IReadOnlyList<Stage> setup) =>
        $"{Environment.ProcessorCount} CPU cores, seed {seed}." +
        (setup.Count > 0 ? " Setup: " + string.Join(", ", setup.Select(st => $"{st.Name} {st.Seconds:F0} s")) + "." : "");

    public BenchReport Paragraph(string text) { _markdown.AppendLine(text).AppendLine(); return this; }

    public BenchReport Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        _markdown.AppendLine("| " + string.Join(" | ", header) + " |");
        _markdown.AppendLine("|" + string.Concat(header.Select(_ => " --- |")));
        foreach (var row in rows) _markdown.AppendLine("| " + string.Join(" | ", row) + " |");
        _markdown.AppendLine();
        return this;
    }

    /// <summary>Writes the three files, the plot made of line series, and returns their paths.</summary>
    public IReadOnlyList<string> Write(string outputDir, object results, string xLabel, string yLabel, IEnumerable<PlotSeries> series, bool logY = false) =>
        Write(outputDir, results, plot =>
        {
            foreach (var s in series)
            {
                var y = logY ? s.Y.Select(Math.Log10).ToArray() : s.Y.ToArray();
                var line = plot.Add.Scatter(s.X.ToArray(), y);
                line.LegendText = s.Label;
            }
            plot.XLabel(xLabel);
            plot.YLabel(logY ? $"log10 {yLabel}" : yLabel);
            plot.ShowLegend();
        });

    /// <summary>Writes the three files, the plot drawn by <paramref name="draw"/> (any ScottPlot plot type), and returns their paths.</summary>
    public IReadOnlyList<string> Write(string outputDir, object results, Action<Plot> draw)
    {
        Directory.CreateDirectory(outputDir);
        string json = Path.Combine(outputDir, name + ".json"), md = Path.Combine(outputDir, name + ".md"), png = Path.Combine(outputDir, name + ".png");
        File.WriteAllText(json, JsonSerializer.Serialize(results, CommonOptions.JsonFile) + "\n");
        File.WriteAllText(md, _markdown.AppendLine($"![{name}]({name}.png)").ToString());

        var plot = new Plot();
        draw(plot);
        plot.Title(title);
        plot.SavePng(png, 900, 540);
        return [json, md, png];
    }
}
