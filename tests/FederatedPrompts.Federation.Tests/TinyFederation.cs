using FederatedPrompts.Cli.Bench;
using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Protocol.Security;

namespace FederatedPrompts.Federation.Tests;

/// <summary>
/// The tiny federation setting (<see cref="FederationSetting.Tiny"/>: models, held-out and public sets) plus a
/// two-class task split over three clients and a CA for their certificates. Untrained models make the numbers
/// meaningless; the tests check the protocol, the state machine and the storage, not accuracy.
/// </summary>
public sealed class TinyFederation : IDisposable
{
    readonly TempFolder _dir = new();
    readonly FederationSetting _setting;
    public static readonly string[] Clients = ["client-1", "client-2", "client-3"];

    public TinyFederation()
    {
        _setting = FederationSetting.Tiny(_dir.Path);
        ClientData = Clients.Select((c, k) => _dir.Write($"{c}.jsonl", FederationSetting.Examples(6 + k, 100 * k))).ToArray();
    }

    public string Large => _setting.Large;
    public string Small => _setting.Small;
    public string[] ClientData { get; }
    public string EvalTask => _setting.EvalTask;
    public string PublicLabeled => _setting.PublicLabeled;
    public string PublicTexts => _setting.PublicTexts;

    public TaskDataset Data(int client) => TaskFile.Load(ClientData[client]);

    /// <summary>A run of <paramref name="rounds"/> rounds over all three clients, quick settings, any overrides applied.</summary>
    public RunConfig Config(string mode, int rounds = 2, Func<RunConfig, RunConfig>? change = null) =>
        _setting.Config(mode, Clients, rounds, minClients: 2, change);

    public string Combine(string name) => _dir.Combine(name);

    /// <summary>Waits until the run is finished or failed (its last step, POST's transfer, runs after the clients are told FINISHED).</summary>
    public static async Task UntilOver(Coordinator.Rounds.RoundEngine engine, TimeSpan patience)
    {
        var until = DateTime.UtcNow + patience;
        while (engine.State is not (Coordinator.Storage.RunState.Finished or Coordinator.Storage.RunState.Failed) && DateTime.UtcNow < until)
            await Task.Delay(50);
    }

    /// <summary>The federation's CA; certificates for the coordinator, the operator and each client come from it.</summary>
    public CertificateAuthority Ca { get; } = CertificateAuthority.Create("Tiny federation CA");

    public CoordinatorCredentials CoordinatorTls => new(Ca.IssueServer("coordinator"), Ca.Certificate);

    public ClientCredentials Tls(string identity) => new(Ca.IssueClient(identity), Ca.Certificate);

    public void Dispose()
    {
        Ca.Dispose();
        _dir.Dispose();
    }
}
