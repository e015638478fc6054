using System.CommandLine;
using FederatedPrompts.Core.Tasks;

namespace FederatedPrompts.Cli;

/// <summary>
/// --task, --preset, --template, --verbalizer: how a labeled task file is turned into prompted classification.
/// The preset defaults to the task file's folder name (sst2, trec, spam, ...), as laid out in ../shared/data/tasks.
/// </summary>
public sealed class TaskSetup
{
    public readonly Option<string> Task = new("--task") { Description = "Labeled task file (.jsonl, .csv or .tsv with text and label)", Required = true };
    public readonly Option<string?> Preset = new("--preset") { Description = $"Template and verbalizer preset ({string.Join(", ", TaskPreset.All.Select(p => p.Name))}); default: the task folder's name" };
    public readonly Option<string?> Template = new("--template") { Description = "Template with {text}, e.g. \"{text} It was\"" };
    public readonly Option<string?> Verbalizer = new("--verbalizer") { Description = "Label words: a JSON file or \"positive=great,good;negative=terrible\"" };

    public IEnumerable<Option> Options => [Task, Preset, Template, Verbalizer];

    public (TaskDataset Data, PromptTemplate Template, Verbalizer Verbalizer) Resolve(ParseResult parse)
    {
        string path = parse.GetValue(Task)!;
        var data = TaskFile.Load(path);
        string? presetName = parse.GetValue(Preset);
        var preset = presetName is not null ? TaskPreset.Get(presetName)
            : TaskPreset.Find(new DirectoryInfo(Path.GetDirectoryName(Path.GetFullPath(path))!).Name);
        var template = parse.GetValue(Template) is { } pattern ? new PromptTemplate(pattern)
            : preset?.Template ?? throw new UserInputException($"no template for {path}: give --template or --preset");
        var verbalizerSpec = parse.GetValue(Verbalizer);
        var verbalizer = verbalizerSpec is null ? preset?.Verbalizer ?? Core.Tasks.Verbalizer.Default(data.Labels)
            : File.Exists(verbalizerSpec) ? Core.Tasks.Verbalizer.Load(verbalizerSpec) : Core.Tasks.Verbalizer.Parse(verbalizerSpec);
        verbalizer.RequireCovers(data.Labels);
        return (data, template, verbalizer);
    }
}
