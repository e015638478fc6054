using System.Security.Cryptography;
using FederatedPrompts.Client;
using FederatedPrompts.Client.Models;
using FederatedPrompts.Client.Transport;
using FederatedPrompts.Coordinator.Hosting;
using FederatedPrompts.Core.Prompts;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace FederatedPrompts.Federation.Tests;

/// <summary>
/// The model download over mutual TLS on 127.0.0.1, with a model folder of several chunks: what the client's cache
/// reports, and that the coordinator streams the file instead of copying it chunk by chunk.
/// </summary>
public class ModelDownloadTests(TinyFederation setting, ITestOutputHelper output) : IClassFixture<TinyFederation>
{
    /// <summary>Bytes of the file added to the small model's folder: 24 chunks of 256 KiB and a part of one.</summary>
    const int PaddingBytes = 24 * 256 * 1024 + 1234;

    [Fact]
    public async Task The_cache_counts_what_it_fetched_and_the_coordinator_streams_without_copying_each_chunk()
    {
        // Every top-level file of the small model's folder is part of the model clients download.
        string small = setting.Combine($"small-padded-{Guid.NewGuid():N}");
        Directory.CreateDirectory(small);
        foreach (var file in Directory.EnumerateFiles(setting.Small)) File.Copy(file, Path.Combine(small, Path.GetFileName(file)));
        var padding = new byte[PaddingBytes];
        new Random(7).NextBytes(padding);
        File.WriteAllBytes(Path.Combine(small, "padding.bin"), padding);

        await using var coordinator = CoordinatorHost.Create(new CoordinatorOptions
        {
            Transport = new CoordinatorTransport(new Uri("https://127.0.0.1:0"), setting.CoordinatorTls, Insecure: false),
            Database = setting.Combine($"download-{Guid.NewGuid():N}.db"),
            Config = setting.Config("soft", change: c => c with { SmallModel = small }),
        }, logs => logs.AddProvider(new TestOutputLoggerProvider(output)));
        await coordinator.StartAsync();
        using var channel = CoordinatorChannel.Create(coordinator.Address, setting.Tls("client-1"), insecure: false, insecureIdentity: null);
        var link = new CoordinatorLink(channel.CreateCallInvoker(), new CallPolicy(), jitterSeed: 1);
        var manifest = (await link.EnrolAsync(PromptMode.Soft, 6, CancellationToken.None)).Model;
        long modelBytes = manifest.Files.Sum(f => f.Size);
        Assert.Contains(manifest.Files, f => f.Name == "padding.bin" && f.Size == PaddingBytes);

        string cache = setting.Combine($"cache-{Guid.NewGuid():N}");
        var first = await new ModelCache(cache).EnsureAsync(link, manifest, CancellationToken.None);
        Assert.Equal((modelBytes, modelBytes), (first.ModelBytes, first.DownloadedBytes));
        Assert.Equal(padding, File.ReadAllBytes(Path.Combine(first.Folder, "padding.bin")));
        // Each chunk's message is its bytes plus its offset, file name, SHA-256 and gRPC's frame prefix: well under 1 % more here.
        Assert.InRange(first.MessageBytes, modelBytes + 1, (long)(modelBytes * 1.01));
        Assert.True(first.Time > TimeSpan.Zero);
        // Complete and verified in the cache: nothing is fetched again.
        var again = await new ModelCache(cache).EnsureAsync(link, manifest, CancellationToken.None);
        Assert.Equal((first.Folder, modelBytes, 0L, 0L), (again.Folder, again.ModelBytes, again.DownloadedBytes, again.MessageBytes));

        // Coordinator and client share this process, so allocations are counted for both. The client takes each chunk
        // into a message of its own (about the file's bytes, allocated once); a coordinator that also copied every chunk
        // it read into a new message would allocate the file's bytes a second time.
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var measured = await new ModelCache(setting.Combine($"cache-{Guid.NewGuid():N}")).EnsureAsync(link, manifest, CancellationToken.None);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.Equal(modelBytes, measured.DownloadedBytes);
        output.WriteLine($"downloading {modelBytes:N0} bytes allocated {allocated:N0} bytes in this process");
        Assert.True(allocated < 1.5 * modelBytes, $"downloading {modelBytes:N0} bytes allocated {allocated:N0} bytes in coordinator and client together");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(padding)), manifest.Files.Single(f => f.Name == "padding.bin").Sha256);
    }
}
