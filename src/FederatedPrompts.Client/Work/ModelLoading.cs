using System.Collections.Concurrent;
using FederatedPrompts.Modeling.Models;
using FederatedPrompts.Modeling.Tokenization;

namespace FederatedPrompts.Client.Work;

/// <summary>The run's model loaded for local work. Disposing it frees the model only where the lease owns it.</summary>
public sealed class LoadedModel(CausalLM model, ITextTokenizer tokenizer, bool owned) : IDisposable
{
    public CausalLM Model => model;
    public ITextTokenizer Tokenizer => tokenizer;

    public void Dispose()
    {
        if (owned) model.Dispose();
    }
}

/// <summary>Where local work gets the downloaded model from.</summary>
public interface IModelLoader
{
    /// <summary>The model in <paramref name="folder"/>, whose files the client loop verified against <paramref name="manifest"/>.</summary>
    LoadedModel Load(string folder, ModelManifest manifest);
}

/// <summary>Each run loads its own copy of the model, freed when the run ends: a client process.</summary>
public sealed class OwnModels : IModelLoader
{
    public static readonly OwnModels Instance = new();

    OwnModels() { }

    public LoadedModel Load(string folder, ModelManifest manifest) => new(HfCheckpoint.Load(folder), TokenizerLoader.FromFolder(folder), owned: true);
}

/// <summary>
/// One copy of each model for all the clients of a process (<c>simulate --in-process</c>, the benchmarks), freed when
/// this is disposed. A model is known by its files' names and SHA-256 as the manifest lists them, not by its folder:
/// the loop verified every file against the manifest, so clients that each downloaded into a cache of their own (as
/// <c>bench federation --client-work train</c> has them do) still share one copy instead of loading one each. Sharing is
/// safe because local work only reads a model: it is frozen and in eval mode, and libtorch's autograd takes backward
/// passes from several threads through shared weights.
/// </summary>
public sealed class SharedModels : IModelLoader, IDisposable
{
    readonly ConcurrentDictionary<string, Lazy<(CausalLM Model, ITextTokenizer Tokenizer)>> _loaded = new();

    public LoadedModel Load(string folder, ModelManifest manifest)
    {
        string content = string.Join("\n", manifest.Files.Select(f => $"{f.Name} {f.Sha256}").Order(StringComparer.Ordinal));
        var (model, tokenizer) = _loaded.GetOrAdd(content, _ => new(() => (HfCheckpoint.Load(folder), TokenizerLoader.FromFolder(folder)))).Value;
        return new LoadedModel(model, tokenizer, owned: false);
    }

    public void Dispose()
    {
        foreach (var loaded in _loaded.Values.Where(l => l.IsValueCreated)) loaded.Value.Model.Dispose();
        _loaded.Clear();
    }
}
