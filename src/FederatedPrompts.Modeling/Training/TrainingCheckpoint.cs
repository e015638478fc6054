using System.Text.Json;
using TorchSharp.Modules;

namespace FederatedPrompts.Modeling.Training;

/// <summary>
/// The checkpoint folder of a training run (<c>outputDir/checkpoint</c>): the model folder, the optimizer state and the
/// trainer's state as JSON. Shared by the trainers so that every run checkpoints and resumes the same way.
/// </summary>
public static class TrainingCheckpoint
{
    public const string Folder = "checkpoint";
    const string StateFile = "trainer_state.json", OptimizerFile = "optimizer.bin";

    public static string FolderOf(string outputDir) => Path.Combine(outputDir, Folder);

    /// <summary>Writes the checkpoint beside the old one, then swaps: a crash mid-save leaves the previous checkpoint intact.</summary>
    public static void Save<TState>(string outputDir, TState state, OptimizerHelper optimizer, Action<string> saveFolder)
    {
        string checkpointDir = FolderOf(outputDir), staging = checkpointDir + ".staging";
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);
        saveFolder(staging);
        optimizer.save_state_dict(Path.Combine(staging, OptimizerFile));
        File.WriteAllText(Path.Combine(staging, StateFile), JsonSerializer.Serialize(state, JsonOptions));
        if (Directory.Exists(checkpointDir)) Directory.Delete(checkpointDir, recursive: true);
        Directory.Move(staging, checkpointDir);
    }

    /// <summary>The state saved in <c>outputDir/checkpoint</c>, or null when there is none to resume.</summary>
    public static TState? TryLoadState<TState>(string outputDir) where TState : class
    {
        string path = Path.Combine(FolderOf(outputDir), StateFile);
        return File.Exists(path) ? JsonSerializer.Deserialize<TState>(File.ReadAllText(path), JsonOptions) : null;
    }

    /// <summary>
    /// Restores the optimizer's moments when the run resumes from a saved step. A checkpoint whose optimizer has other parameter
    /// groups (one of training recipe 1, <see cref="TrainingLoop.RecipeVersion"/>, with a single group) cannot continue this run.
    /// </summary>
    public static void RestoreOptimizer(string outputDir, int step, OptimizerHelper optimizer)
    {
        string path = Path.Combine(FolderOf(outputDir), OptimizerFile);
        if (step <= 0 || !File.Exists(path)) return;
        try { optimizer.load_state_dict(path); }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{path}: the optimizer state does not fit this run's parameter groups ({e.Message}); " +
                                        "a checkpoint of an older training recipe cannot be resumed, start the run again without resuming", e);
        }
    }

    static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };
}
