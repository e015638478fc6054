using System.CommandLine;
using FederatedPrompts.Cli.Bench;

namespace FederatedPrompts.Cli.Commands;

/// <summary><c>fedprompt bench ...</c>: benchmarks that write JSON + markdown + PNG (see bench/README.md).</summary>
public static class BenchCommand
{
    public static Command Create() => new("bench", "Run a benchmark and write JSON, markdown and a PNG plot")
    {
        PretrainBenchmark.Create(),
        PostBenchmark.Create(),
        PostCostBenchmark.Create(),
        FederationBenchmark.Create(),
        InferenceBenchmark.Create(),
        FedDtptBenchmark.Create(),
        RobustBenchmark.Create(),
        PrivacyBenchmark.Create(),
        PeerBenchmark.Create(),
        PeerWorkloads.Create(),
        ClientProcesses.Create(),
    };
}
