using System.Security.Cryptography;
using FederatedPrompts.Client;
using FederatedPrompts.Client.Work;

namespace FederatedPrompts.Federation.Tests;

/// <summary>
/// <see cref="SharedModels"/> knows a model by its files as the manifest lists them, not by its folder: clients that
/// downloaded into caches of their own share one loaded copy, and different files are different models.
/// </summary>
public class SharedModelsTests(TinyFederation setting) : IClassFixture<TinyFederation>
{
    [Fact]
    public void Folders_with_the_same_files_share_one_loaded_model_and_other_files_do_not()
    {
        string first = Copy(setting.Small, "first"), second = Copy(setting.Small, "second"), teacher = Copy(setting.Large, "teacher");
        using var models = new SharedModels();

        using var a = models.Load(first, Manifest(first));
        using var b = models.Load(second, Manifest(second));
        using var c = models.Load(teacher, Manifest(teacher));

        Assert.Same(a.Model, b.Model);
        Assert.NotSame(a.Model, c.Model);
        Assert.Equal(1, a.Model.Config.NumLayers);
        Assert.Equal(2, c.Model.Config.NumLayers);
    }

    string Copy(string folder, string name)
    {
        string copy = setting.Combine($"{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.EnumerateFiles(folder)) File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        return copy;
    }

    /// <summary>The folder's files as a coordinator's manifest lists them (the identities play no part in sharing).</summary>
    static ModelManifest Manifest(string folder) => new("model", "tokenizer", Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal)
        .Select(f => new ModelFile(Path.GetFileName(f), new FileInfo(f).Length, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f))))).ToList());
}
