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
    LoadedModel Load(string folder);
}

/// <summary>Each run loads its own copy of the model, freed when the run ends: a client process.</summary>
public sealed class OwnModels : IModelLoader
{
    public static readonly OwnModels Instance = new();

    OwnModels() { }

    public LoadedModel Load(string folder) => new(HfCheckpoint.Load(folder), TokenizerLoader.FromFolder(folder), owned: true);
}

/// <summary>
/// One copy of each model folder for all the clients of a process (<c>simulate --in-process</c>, the benchmarks),
/// freed when this is disposed. Sharing is safe because local work only reads a model: it is frozen and in eval mode,
/// and libtorch's autograd takes backward passes from several threads through shared weights.
/// </summary>
public sealed class SharedModels : IModelLoader, IDisposable
{
    readonly ConcurrentDictionary<string, Lazy<(CausalLM Model, ITextTokenizer Tokenizer)>> _loaded = new();

    public LoadedModel Load(string folder)
    {
        var (model, tokenizer) = _loaded.GetOrAdd(Path.GetFullPath(folder), path => new(() => (HfCheckpoint.Load(path), TokenizerLoader.FromFolder(path)))).Value;
        return new LoadedModel(model, tokenizer, owned: false);
    }

    public void Dispose()
    {
        foreach (var loaded in _loaded.Values.Where(l => l.IsValueCreated)) loaded.Value.Model.Dispose();
        _loaded.Clear();
    }
}
