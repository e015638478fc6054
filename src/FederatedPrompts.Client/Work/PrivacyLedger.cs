using System.Text.Json;
using FederatedPrompts.Post.Privacy;

namespace FederatedPrompts.Client.Work;

/// <summary>One DP-SGD round as the accountant sees it.</summary>
public sealed record LedgerEntry(int Round, double SampleRate, double NoiseMultiplier, int Steps, double Delta);

/// <summary>
/// This client's privacy spend in a run, kept on disk before each round trains (a round that crashes and runs again
/// is counted twice, as it should be: the data was used twice). ε composes over all entries with the RDP accountant.
/// </summary>
public sealed class PrivacyLedger
{
    sealed record LedgerFile(string RunId, List<LedgerEntry> Entries);

    readonly string _path;
    LedgerFile _file;

    public PrivacyLedger(string stateDirectory, string runId)
    {
        Directory.CreateDirectory(stateDirectory);
        _path = Path.Combine(stateDirectory, "privacy-ledger.json");
        _file = File.Exists(_path) ? JsonSerializer.Deserialize<LedgerFile>(File.ReadAllText(_path))! : new LedgerFile(runId, []);
        if (_file.RunId != runId) _file = new LedgerFile(runId, []);
    }

    public IReadOnlyList<LedgerEntry> Entries => _file.Entries;

    public void Record(LedgerEntry entry)
    {
        _file.Entries.Add(entry);
        string temporary = _path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(_file));
        File.Move(temporary, _path, overwrite: true);
    }

    /// <summary>ε at δ of these entries plus <paramref name="extra"/>, composed.</summary>
    public double Epsilon(double delta, LedgerEntry? extra = null)
    {
        var accountant = new RdpAccountant();
        foreach (var e in extra is null ? Entries : [.. Entries, extra]) accountant.Record(e.SampleRate, e.NoiseMultiplier, e.Steps);
        return accountant.GetEpsilon(delta).Epsilon;
    }
}
