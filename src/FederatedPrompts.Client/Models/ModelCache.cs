using System.Security.Cryptography;
using FederatedPrompts.Protocol.V1;
using Grpc.Core;

namespace FederatedPrompts.Client.Models;

/// <summary>
/// Downloads the run's model into CacheDirectory/&lt;identity&gt;/, verifying each file's SHA-256; a folder already complete
/// and verified is reused (cached by hash), and an interrupted file resumes from its partial length.
/// </summary>
public sealed class ModelCache(string cacheDirectory)
{
    public async Task<string> EnsureAsync(Federation.FederationClient coordinator, ModelManifest manifest, Retry retry, CancellationToken cancel)
    {
        string folder = Path.Combine(cacheDirectory, Sanitize(manifest.ModelIdentity));
        Directory.CreateDirectory(folder);
        await using var exclusive = await LockAsync(folder, cancel);   // clients of one machine may share the cache
        foreach (var file in manifest.Files)
        {
            if (file.Name.Contains('/') || file.Name.Contains('\\') || file.Name is "." or "..")
                throw new InvalidDataException($"the coordinator's manifest names an unsafe file \"{file.Name}\"");
            string path = Path.Combine(folder, file.Name);
            if (File.Exists(path) && Hash(path) == file.Sha256) continue;
            string partial = path + ".partial";
            await retry.Call(async () => { await Download(coordinator, manifest.ModelIdentity, file, partial, cancel); return 0; }, cancel);
            string hash = Hash(partial);
            if (hash != file.Sha256)
            {
                File.Delete(partial);
                throw new InvalidDataException($"{file.Name}: downloaded SHA-256 {hash} differs from the manifest's {file.Sha256}");
            }
            File.Move(partial, path, overwrite: true);
        }
        return folder;
    }

    static async Task Download(Federation.FederationClient coordinator, string identity, ModelFile file, string partial, CancellationToken cancel)
    {
        long offset = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        if (offset > file.Size) { File.Delete(partial); offset = 0; }
        if (offset == file.Size) return;
        await using var output = new FileStream(partial, FileMode.Append, FileAccess.Write);
        using var call = coordinator.DownloadModel(new DownloadModelRequest { ModelIdentity = identity, FileName = file.Name, Offset = offset }, cancellationToken: cancel);
        await foreach (var chunk in call.ResponseStream.ReadAllAsync(cancel))
        {
            if (chunk.Offset != output.Length) throw new InvalidDataException($"{file.Name}: chunk at offset {chunk.Offset}, expected {output.Length}");
            // Checked before it is written, so the partial file ends at the last good chunk and a retry resumes there.
            if (chunk.Sha256.Length > 0 && Convert.ToHexStringLower(SHA256.HashData(chunk.Data.Span)) != chunk.Sha256)
                throw new InvalidDataException($"{file.Name}: the chunk at offset {chunk.Offset} does not match its SHA-256 {chunk.Sha256}");
            chunk.Data.WriteTo(output);
        }
    }

    /// <summary>Holds the folder's lock file open exclusively (an OS file lock, so it also excludes other processes).</summary>
    static async Task<FileStream> LockAsync(string folder, CancellationToken cancel)
    {
        while (true)
        {
            try
            {
                return new FileStream(Path.Combine(folder, ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                await Task.Delay(100, cancel);
            }
        }
    }

    static string Hash(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
    }

    static string Sanitize(string identity) => string.Concat(identity.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '_'));
}
