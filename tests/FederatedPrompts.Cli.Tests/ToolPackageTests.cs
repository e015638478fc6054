using System.Diagnostics;
using System.IO.Compression;
using System.Reflection;

namespace FederatedPrompts.Cli.Tests;

/// <summary>
/// `fedprompt` as a .NET tool, the way an operator installs it: `dotnet pack` the CLI, `dotnet tool install
/// --tool-path` from the folder of packages, then run the installed command. Slow: the pack builds the CLI and its
/// libraries afresh into a temporary artifacts folder and zips the linux-x64 publish output (libtorch included,
/// about 240 MB), 2-4 minutes on 2 loaded cores. It needs no network: restore takes packages from the local NuGet cache
/// the solution's own restore filled, and the install reads only the temporary folder (a nuget.config that clears
/// every other source).
/// </summary>
public class ToolPackageTests : IDisposable
{
    readonly TempFolder _dir = new();
    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Packed_tool_installs_and_runs_with_its_version_and_libtorch()
    {
        string packages = _dir.Combine("packages"), tools = _dir.Combine("tools");
        // --artifacts-path keeps the pack's bin/obj out of the checkout, so it cannot disturb the build the tests
        // run from; --disable-build-servers leaves no MSBuild or compiler server behind holding our pipes open.
        Run("dotnet", "pack", Repository.Path("src", "FederatedPrompts.Cli"), "-c", "Release", "-o", packages,
            "--artifacts-path", _dir.Combine("artifacts"), "--disable-build-servers");

        // A RID-specific tool: a pointer package and the linux-x64 one, which carries only linux-x64 native code.
        string version = PackageVersion();
        string pointer = Path.Combine(packages, $"fedprompt.{version}.nupkg"), linux = Path.Combine(packages, $"fedprompt.linux-x64.{version}.nupkg");
        Assert.True(File.Exists(pointer), $"no {pointer}: {string.Join(", ", Directory.GetFiles(packages).Select(Path.GetFileName))}");
        using (var zip = ZipFile.OpenRead(linux))
        {
            var names = zip.Entries.Select(e => e.FullName).ToList();
            Assert.Contains($"tools/net10.0/linux-x64/libtorch_cpu.so", names);
            Assert.Contains($"tools/net10.0/linux-x64/libLibTorchSharp.so", names);
            // Other OSes' natives (runtimes/win-x64, runtimes/osx-arm64 … of a RID-less build) are not packed.
            Assert.DoesNotContain(names, n => n.Contains("/runtimes/") || n.EndsWith(".dylib"));
        }

        string config = _dir.Write("nuget.config", $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="packed" value="{packages}" />
              </packageSources>
            </configuration>
            """);
        Run("dotnet", "tool", "install", "--tool-path", tools, "--configfile", config, "fedprompt", "--version", version);
        string fedprompt = Path.Combine(tools, "fedprompt");

        // --version prints the informational version: the package version and the commit the package was built
        // from, which pack also records in the pointer package's nuspec (absent where the source has no .git).
        var shown = Run(fedprompt, "--version").Trim();
        string? commit = PackedCommit(pointer);
        Assert.Equal(commit is null ? version : $"{version}+{commit}", shown);
        if (commit is not null) Assert.Matches("^[0-9a-f]{40}$", commit);

        // A command that loads libtorch: on Debian 12 this fails unless build/TorchSharpNative.targets patched the
        // libLibTorchSharp.so inside the package (its publish step), since the install copies it as packed.
        string corpus = _dir.Write("corpus.txt", string.Join("\n\n", Enumerable.Range(0, 20).Select(i =>
            i % 2 == 0 ? $"note {i}: the day was lovely. It was great." : $"note {i}: the day was dull. It was terrible.")));
        string model = _dir.Combine("model");
        string pretrained = Run(fedprompt, "pretrain", "--corpus", corpus, "--out", model, "--layers", "1", "--hidden", "16", "--heads", "2",
            "--context", "32", "--vocab-size", "300", "--steps", "1", "--eval-every", "1", "--checkpoint-every", "1", "--held-out", "0.3");
        Assert.True(File.Exists(Path.Combine(model, "model.safetensors")), pretrained);
    }

    static string? PackedCommit(string nupkg)
    {
        using var zip = ZipFile.OpenRead(nupkg);
        using var nuspec = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec")).Open();
        var repository = System.Xml.Linq.XDocument.Load(nuspec).Descendants().FirstOrDefault(e => e.Name.LocalName == "repository");
        return repository?.Attribute("commit")?.Value;
    }

    /// <summary>The package version is the assembly's informational version without its +commit suffix.</summary>
    static string PackageVersion() =>
        typeof(FedpromptCommands).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];

    static string Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(15)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)}");
        }
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', args)} exited {process.ExitCode}\n{stdout.Result}\n{stderr.Result}");
        return stdout.Result;
    }
}
