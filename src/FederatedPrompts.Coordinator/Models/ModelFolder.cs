using System.Security.Cryptography;

namespace FederatedPrompts.Coordinator.Models;

/// <summary>One file of the model clients download.</summary>
public sealed record ModelFileEntry(string Name, long Size, string Sha256);

/// <summary>
/// The small model's folder as clients download it: every top-level file with its size and SHA-256 (checkpoints of
/// training are not part of the model), under the identities clients check what they load against.
/// </summary>
public sealed class ModelFolder
{
    readonly string _folder;

    public ModelFolder(string folder, string modelIdentity, string tokenizerIdentity)
    {
        _folder = folder;
        ModelIdentity = modelIdentity;
        TokenizerIdentity = tokenizerIdentity;
        Files = Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal).Select(file =>
        {
            using var stream = File.OpenRead(file);
            return new ModelFileEntry(Path.GetFileName(file), stream.Length, Convert.ToHexStringLower(SHA256.HashData(stream)));
        }).ToList();
    }

    public string ModelIdentity { get; }
    public string TokenizerIdentity { get; }
    public IReadOnlyList<ModelFileEntry> Files { get; }

    /// <summary>Path of a listed file; null for a name the folder's list does not have.</summary>
    public string? PathOf(string name) => Files.Any(f => f.Name == name) ? Path.Combine(_folder, name) : null;
}
