using System.Text;
using FederatedPrompts.Core.Tasks;

namespace FederatedPrompts.Core.Partitioning;

/// <summary>A task's examples dealt out to federated clients: one <see cref="TaskDataset"/> per client, in client order.</summary>
public sealed class ClientPartition
{
    public ClientPartition(IReadOnlyList<TaskDataset> clients, IReadOnlyList<string> labels)
    {
        Clients = clients;
        Labels = labels;
    }

    public IReadOnlyList<TaskDataset> Clients { get; }
    /// <summary>The labels of the whole dataset (sorted), the columns of <see cref="LabelCounts"/>.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>LabelCounts[client][label index]: how many examples of each label every client holds.</summary>
    public int[][] LabelCounts => Clients
        .Select(client => Labels.Select(label => client.LabelCounts.GetValueOrDefault(label)).ToArray())
        .ToArray();

    /// <summary>A plain-text table: one row per client with its label counts and total, for printing.</summary>
    public string Summary()
    {
        var header = new[] { "client" }.Concat(Labels).Append("total").ToArray();
        var rows = LabelCounts.Select((counts, k) =>
            new[] { k.ToString() }.Concat(counts.Select(c => c.ToString())).Append(counts.Sum().ToString()).ToArray());
        var table = new[] { header }.Concat(rows).ToArray();
        var widths = Enumerable.Range(0, header.Length).Select(column => table.Max(row => row[column].Length)).ToArray();
        var text = new StringBuilder();
        foreach (var row in table)
            text.AppendLine(string.Join("  ", row.Select((cell, column) => cell.PadLeft(widths[column]))).TrimEnd());
        return text.ToString();
    }
}
