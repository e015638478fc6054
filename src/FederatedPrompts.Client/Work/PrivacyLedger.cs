using System.Text.Json;
using System.Text.Json.Serialization;
using FederatedPrompts.Post.Privacy;

namespace FederatedPrompts.Client.Work;

/// <summary>
/// One DP-SGD round as the accountant sees it, and which accountant the run composes with (ledgers written before the
/// field existed were composed with RDP, and read back so).
/// </summary>
public sealed record LedgerEntry(int Round, double SampleRate, double NoiseMultiplier, int Steps, double Delta,
    [property: JsonConverter(typeof(JsonStringEnumConverter<AccountantKind>))] AccountantKind Accountant = AccountantKind.Rdp);

/// <summary>
/// This client's privacy spend in a run, kept on disk before each round trains (a round that crashes and runs again
/// is counted twice, as it should be: the data was used twice). ε composes over all entries with the run's accountant.
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

    /// <summary>ε at δ of these entries plus <paramref name="extra"/>, composed by their accountant (RDP if they name two).</summary>
    public double Epsilon(double delta, LedgerEntry? extra = null)
    {
        List<LedgerEntry> entries = extra is null ? [.. Entries] : [.. Entries, extra];
        if (entries.Count == 0) throw new InvalidOperationException("the privacy ledger has no entries");
        // A ledger begun before its run named an accountant (RDP) and continued under PRV composes with RDP: an upper
        // bound on the ε of any mix, where PRV's composition of the RDP-calibrated rounds would be the same steps anyway.
        var kinds = entries.Select(e => e.Accountant).Distinct().ToList();
        var accountant = PrivacyAccountants.Create(kinds.Count == 1 ? kinds[0] : AccountantKind.Rdp);
        foreach (var e in entries) accountant.Record(e.SampleRate, e.NoiseMultiplier, e.Steps);
        return accountant.Epsilon(delta);
    }
}
