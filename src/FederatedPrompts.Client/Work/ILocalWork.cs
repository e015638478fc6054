using FederatedPrompts.Client.Transport;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Modeling.Tokenization;

namespace FederatedPrompts.Client.Work;

/// <summary>
/// The local-work seam: what a client does with a round between receiving its task and uploading. The client loop
/// (<see cref="ClientLoop"/>) does everything around it the same way for every kind of work: enrolment, the model
/// download, polling, heartbeats, the privacy ledger, retries and the upload. <see cref="SoftLocalWork"/> (POST) and
/// <see cref="DiscreteLocalWork"/> (FedDTPT) are the client's; a benchmark or a test plugs in its own.
/// </summary>
public interface ILocalWork
{
    /// <summary>The mode this work serves: the client enrols in it, and a round that asks for another kind of work is an error.</summary>
    PromptMode Mode { get; }

    /// <summary>The private examples the work learns from, as a count: what the client enrols with and reports with every update.</summary>
    int ExampleCount { get; }

    /// <summary>Whether the work runs on the run's model: if so the loop downloads and verifies it before the first round.</summary>
    bool UsesModel { get; }

    /// <summary>Readies the work for one run (loads the model, binds the run's task); the loop disposes it when the run ends.</summary>
    ILocalRun Open(LocalRunContext run);
}

/// <summary>Local work bound to one run.</summary>
public interface ILocalRun : IDisposable
{
    /// <summary>One round's work: runs on the thread pool, may take minutes, and gets only rounds of its own mode.</summary>
    LocalUpdate Train(RoundAssignment round, CancellationToken cancel);
}

/// <summary>What the loop hands local work for a run: the enrolment, the verified model folder, the privacy ledger, and the coordinator's black box.</summary>
public sealed class LocalRunContext(Enrolment enrolment, string? modelFolder, PrivacyLedger ledger, CoordinatorLink coordinator)
{
    public Enrolment Enrolment => enrolment;

    /// <summary>The downloaded, verified model folder (only for work that <see cref="ILocalWork.UsesModel"/>).</summary>
    public string ModelFolder => modelFolder ?? throw new InvalidOperationException("this local work said it does not use the model, so none was downloaded");

    /// <summary>This client's privacy spend in the run, on disk: DP work records each round before it trains.</summary>
    public PrivacyLedger Ledger => ledger;

    /// <summary>The coordinator's inference service as a metered black box for one round's search, within <paramref name="budget"/> inputs.</summary>
    public RemoteBlackBoxClassifier BlackBox(ITextTokenizer tokenizer, long budget, CancellationToken cancel) => coordinator.BlackBox(enrolment, tokenizer, budget, cancel);
}
