using FederatedPrompts.Coordinator.Runs;
using FederatedPrompts.Core.Tasks;

namespace FederatedPrompts.Coordinator.Models;

/// <summary>
/// The classification task of a run, as the coordinator holds it: the template, label words and label descriptions (from
/// the preset or given), the held-out set every global prompt is evaluated on, and the public labeled set (the α
/// heuristic's, and the balanced examples sent to discrete-mode clients). Files are read when the run is served, not when its record is read.
/// </summary>
public sealed class RunTask
{
    public RunTask(RunConfig config)
    {
        (Template, Verbalizer) = TemplateOf(config);
        Descriptions = DescriptionsOf(config, Template, Verbalizer);
        var evalSet = TaskFile.Load(config.EvalTask);
        Verbalizer.RequireCovers(evalSet.Labels);
        if (config.EvalLimit is int limit && limit < evalSet.Count) evalSet = evalSet.Sample(limit, config.Seed);
        HeldOut = evalSet.Examples.Select(e => (e.Text, e.Label)).ToList();
        if (config.PublicLabeled is { } publicPath)
        {
            PublicLabeled = TaskFile.Load(publicPath);
            Verbalizer.RequireCovers(PublicLabeled.Labels);
        }
        PublicExamples = PublicLabeled is not null && config.PublicPerLabel > 0 ? PublicLabeled.Balanced(config.PublicPerLabel, config.Seed).Examples : [];
    }

    public PromptTemplate Template { get; }
    public Verbalizer Verbalizer { get; }
    /// <summary>What the "minilm" black box compares inputs with.</summary>
    public LabelDescriptions Descriptions { get; }
    public IReadOnlyList<(string Text, string Label)> HeldOut { get; }
    public TaskDataset? PublicLabeled { get; }
    /// <summary>The balanced, seeded public examples sent to clients at enrolment.</summary>
    public IReadOnlyList<LabeledExample> PublicExamples { get; }

    /// <summary>The run's template and label words: the preset's, or the configured ones.</summary>
    public static (PromptTemplate Template, Verbalizer Verbalizer) TemplateOf(RunConfig config)
    {
        var preset = config.Preset is { } name ? TaskPreset.Get(name) : null;
        var template = config.Template is { } pattern ? new PromptTemplate(pattern) : preset!.Template;
        var verbalizer = config.LabelWords is { } words
            ? new Verbalizer(words.Select(p => new KeyValuePair<string, IReadOnlyList<string>>(p.Key, p.Value)))
            : preset!.Verbalizer;
        return (template, verbalizer);
    }

    /// <summary>
    /// The run's label descriptions: the configured ones, else the preset's while its label words are in use, else derived
    /// from the template and label words.
    /// </summary>
    public static LabelDescriptions DescriptionsOf(RunConfig config, PromptTemplate template, Verbalizer verbalizer) =>
        config.LabelDescriptions is { } given ? new LabelDescriptions(given)
        : config.LabelWords is null && config.Preset is { } name ? TaskPreset.Get(name).Descriptions
        : LabelDescriptions.Derived(template, verbalizer);
}
