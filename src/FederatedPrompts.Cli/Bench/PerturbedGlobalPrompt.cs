using FederatedPrompts.Client;
using FederatedPrompts.Client.Work;
using FederatedPrompts.Core.Federation;
using FederatedPrompts.Core.Prompts;

namespace FederatedPrompts.Cli.Bench;

/// <summary>
/// Local work that trains nothing, for measuring the coordinator (<c>bench federation</c>): soft mode uploads the global
/// prompt plus N(0, <paramref name="noise"/>²) per value; discrete mode the global token ids with one seeded position
/// replaced by a seeded id below <paramref name="vocabularySize"/>. Seeded by the round's work seed, so runs reproduce.
/// A DP policy is answered with a zero-ε spend at the policy's clip norm (nothing was trained, nothing spent). It needs
/// no model, so the client loop downloads none.
/// </summary>
public sealed class PerturbedGlobalPrompt(PromptMode mode, int exampleCount, float noise, int vocabularySize) : ILocalWork, ILocalRun
{
    public PromptMode Mode => mode;
    public int ExampleCount => exampleCount;
    public bool UsesModel => false;

    public ILocalRun Open(LocalRunContext run) => this;

    public LocalUpdate Train(RoundAssignment round, CancellationToken cancel)
    {
        var random = new Random(round.Seed);
        var metrics = new LocalWorkMetrics(AccuracyBefore: 0.5, AccuracyAfter: 0.5, FinalLoss: 0, Steps: 0, Queries: 0, TokensSent: 0, Seconds: 0);
        switch (round.Work)
        {
            case SoftWorkSettings soft:
                var values = soft.GlobalPrompt.Values.ToArray();
                for (int i = 0; i < values.Length; i++) values[i] += noise * Gaussian(random);
                var privacy = soft.Dp is { } dp ? new DpSpend(dp.ClipNorm, 0, 0, 0, dp.Delta ?? 0, 0, 0) : null;
                return new SoftUpdate(new SoftPrompt(values, soft.GlobalPrompt.Length, soft.GlobalPrompt.HiddenSize, soft.GlobalPrompt.ModelIdentity), metrics, privacy);
            case DiscreteWorkSettings discrete:
                var ids = discrete.GlobalPrompt.TokenIds.ToArray();
                ids[random.Next(ids.Length)] = random.Next(vocabularySize);
                return new DiscreteUpdate(new DiscretePrompt(ids, discrete.GlobalPrompt.TokenizerIdentity), metrics, Search: null);
            default:
                throw new InvalidDataException($"round {round.Round} asks for work this simulation does not know");
        }
    }

    public void Dispose() { }

    static float Gaussian(Random random) =>
        (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
}
