using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Modeling.Classification;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;
using FederatedPrompts.Protocol.V1;

namespace FederatedPrompts.Client.Jobs;

/// <summary>The run's task as the coordinator describes it (template, label words, public examples), bound to the downloaded model.</summary>
public sealed class RunTask : IDisposable
{
    public RunTask(string modelFolder, TaskSpec spec, TaskDataset privateData)
    {
        Template = new PromptTemplate(spec.Template);
        Verbalizer = new Verbalizer(spec.Labels.Select(l => new KeyValuePair<string, IReadOnlyList<string>>(l.Label, l.Words.ToList())));
        Verbalizer.RequireCovers(privateData.Labels);
        PrivateData = privateData;
        PublicExamples = spec.PublicExamples.Count == 0 ? null
            : new TaskDataset(spec.PublicExamples.Select(e => new LabeledExample(e.Text, e.Label)), "the coordinator's public examples");
        Model = HfCheckpoint.Load(modelFolder);
        Tokenizer = TokenizerLoader.FromFolder(modelFolder);
        var labels = Verbalizer.Labels;
        Classifier = new PromptedClassifier(Model, Tokenizer, labels, labels.Select(Verbalizer.WordsFor).ToList(), Template.Render);
    }

    public PromptTemplate Template { get; }
    public Verbalizer Verbalizer { get; }
    public TaskDataset PrivateData { get; }
    public TaskDataset? PublicExamples { get; }
    public CausalLM Model { get; }
    public ITextTokenizer Tokenizer { get; }
    public PromptedClassifier Classifier { get; }

    /// <summary>Up to <paramref name="count"/> private examples for the before/after metrics (seeded, so both see the same).</summary>
    public IReadOnlyList<(string Text, string Label)> MetricSample(int count, int seed) =>
        (PrivateData.Count <= count ? PrivateData : PrivateData.Sample(count, seed)).Examples.Select(e => (e.Text, e.Label)).ToList();

    public void Dispose() => Model.Dispose();
}
