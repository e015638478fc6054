using System.Diagnostics;
using System.Security.Cryptography;
using FederatedPrompts.Client.Transport;

namespace FederatedPrompts.Client.Models;

/// <summary>
/// The verified model folder and what getting it took: the manifest's bytes, the file bytes fetched this time (0 when
/// the cache held every file; less than the manifest's when a partial file resumed), the gRPC messages that carried
/// them (protobuf chunks with their 5-byte frame prefix, failed attempts included), and when and for how long the
/// client was at it (waiting for the cache's lock, downloading and hashing).
/// </summary>
public sealed record CachedModel(string Folder, long ModelBytes, long DownloadedBytes, long MessageBytes, DateTimeOffset StartedAt, TimeSpan Time);

/// <summary>
/// Downloads the run's model into CacheDirectory/&lt;identity&gt;/, verifying each file's SHA-256; a folder already complete
/// and verified is reused (cached by hash), and an interrupted file resumes from its partial length.
/// </summary>
public sealed class ModelCache(string cacheDirectory)
{
    public async Task<CachedModel> EnsureAsync(CoordinatorLink coordinator, ModelManifest manifest, CancellationToken cancel)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        string folder = Path.Combine(cacheDirectory, Sanitize(manifest.ModelIdentity));
        Directory.CreateDirectory(folder);
        await using var exclusive = await LockAsync(folder, cancel);   // clients of one machine may share the cache
        long downloaded = 0, messages = 0;
        foreach (var file in manifest.Files)
        {
            if (file.Name.Contains('/') || file.Name.Contains('\\') || file.Name is "." or "..")
                throw new InvalidDataException($"the coordinator's manifest names an unsafe file \"{file.Name}\"");
            string path = Path.Combine(folder, file.Name);
            if (File.Exists(path) && Hash(path) == file.Sha256) continue;
            string partial = path + ".partial";
            var fetched = await coordinator.DownloadAsync(manifest.ModelIdentity, file, partial, cancel);
            (downloaded, messages) = (downloaded + fetched.FileBytes, messages + fetched.MessageBytes);
            string hash = Hash(partial);
            if (hash != file.Sha256)
            {
                File.Delete(partial);
                throw new InvalidDataException($"{file.Name}: downloaded SHA-256 {hash} differs from the manifest's {file.Sha256}");
            }
            File.Move(partial, path, overwrite: true);
        }
        return new CachedModel(folder, manifest.Files.Sum(f => f.Size), downloaded, messages, startedAt, clock.Elapsed);
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
