using System.CommandLine;
using FederatedPrompts.Core.Tasks;

namespace FederatedPrompts.Cli;

/// <summary>
/// --task, --preset, --template, --verbalizer: how a labeled task file is turned into prompted classification.
/// The preset defaults to the task file's folder name (sst2, trec, spam, ...), as laid out in ../shared/data/tasks.
/// </summary>
public sealed class TaskSetup(string taskOption = "--task", bool taskRequired = true,
    string taskDescription = "Labeled task file (.jsonl, .csv or .tsv with text and label)")
{
    public readonly Option<string?> Task = new(taskOption) { Description = taskDescription, Required = taskRequired };
    public readonly Option<string?> Preset = new("--preset") { Description = $"Template and verbalizer preset ({string.Join(", ", TaskPreset.All.Select(p => p.Name))}); default: the task folder's name" };
    public readonly Option<string?> Template = new("--template") { Description = "Template with {text}, e.g. \"{text} It was\"" };
    public readonly Option<string?> Verbalizer = new("--verbalizer") { Description = "Label words: a JSON file or \"positive=great,good;negative=terrible\"" };

    public IEnumerable<Option> Options => [Task, Preset, Template, Verbalizer];

    /// <summary>The task file (when given; required unless constructed otherwise), its template and label words.</summary>
    public (TaskDataset? Data, PromptTemplate Template, Verbalizer Verbalizer) Resolve(ParseResult parse)
    {
        string? path = parse.GetValue(Task);
        var data = path is null ? null : TaskFile.Load(path);
        var preset = PresetOf(parse);
        string what = path ?? "this run";
        var template = parse.GetValue(Template) is { } pattern ? new PromptTemplate(pattern)
            : preset?.Template ?? throw new UserInputException($"no template for {what}: give --template or --preset");
        var verbalizerSpec = parse.GetValue(Verbalizer);
        var verbalizer = verbalizerSpec is not null
            ? File.Exists(verbalizerSpec) ? Core.Tasks.Verbalizer.Load(verbalizerSpec) : Core.Tasks.Verbalizer.Parse(verbalizerSpec)
            : preset?.Verbalizer ?? (data is not null ? Core.Tasks.Verbalizer.Default(data.Labels)
                : throw new UserInputException($"no label words for {what}: give --verbalizer or --preset"));
        if (data is not null) verbalizer.RequireCovers(data.Labels);
        return (data, template, verbalizer);
    }

    /// <summary>
    /// What the "minilm" black box compares inputs with: the preset's descriptions while its label words are in use, else
    /// the template's closing with each label's first word (<see cref="LabelDescriptions.Derived"/>).
    /// </summary>
    public LabelDescriptions Descriptions(ParseResult parse, PromptTemplate template, Verbalizer verbalizer) =>
        parse.GetValue(Verbalizer) is null && PresetOf(parse) is { } preset ? preset.Descriptions : LabelDescriptions.Derived(template, verbalizer);

    /// <summary>The preset --preset names, else the one named like the task file's folder; null when neither is known.</summary>
    public TaskPreset? PresetOf(ParseResult parse)
    {
        string? path = parse.GetValue(Task);
        return parse.GetValue(Preset) is { } presetName ? TaskPreset.Get(presetName)
            : path is null ? null : TaskPreset.Find(new DirectoryInfo(Path.GetDirectoryName(Path.GetFullPath(path))!).Name);
    }
}
