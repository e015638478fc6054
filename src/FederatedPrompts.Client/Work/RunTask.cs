using FederatedPrompts.Core.Tasks;
using FederatedPrompts.Modeling.Classification;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;

namespace FederatedPrompts.Client.Work;

/// <summary>The run's task as the coordinator describes it (template, label words, public examples), bound to the downloaded model and this client's private examples.</summary>
public sealed class RunTask : IDisposable
{
    readonly LoadedModel _model;

    public RunTask(LoadedModel model, RunTaskSpec spec, TaskDataset privateData)
    {
        spec.Verbalizer.RequireCovers(privateData.Labels);
        _model = model;
        PrivateData = privateData;
        PublicExamples = spec.PublicExamples;
        var labels = spec.Verbalizer.Labels;
        Classifier = new PromptedClassifier(model.Model, model.Tokenizer, labels, labels.Select(spec.Verbalizer.WordsFor).ToList(), spec.Template.Render);
    }

    /// <summary>The run's task on the model <paramref name="models"/> loads from the run's verified folder.</summary>
    public static RunTask Open(LocalRunContext run, TaskDataset privateData, IModelLoader models)
    {
        var model = models.Load(run.ModelFolder, run.Enrolment.Model);
        try
        {
            return new RunTask(model, run.Enrolment.Task, privateData);
        }
        catch
        {
            model.Dispose();   // a task the model cannot serve (labels without words, words it splits) must not keep the model loaded
            throw;
        }
    }

    public TaskDataset PrivateData { get; }
    public TaskDataset? PublicExamples { get; }
    public CausalLM Model => _model.Model;
    public ITextTokenizer Tokenizer => _model.Tokenizer;
    public PromptedClassifier Classifier { get; }

    /// <summary>Up to <paramref name="count"/> private examples for the before/after metrics (seeded, so both see the same).</summary>
    public IReadOnlyList<(string Text, string Label)> MetricSample(int count, int seed) =>
        (PrivateData.Count <= count ? PrivateData : PrivateData.Sample(count, seed)).Examples.Select(e => (e.Text, e.Label)).ToList();

    public void Dispose() => _model.Dispose();
}
