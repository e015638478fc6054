namespace FederatedPrompts.TestSupport;

/// <summary>The checkout the tests run from (found by walking up to FederatedPrompts.sln): its committed files, and ../shared beside it.</summary>
public static class Repository
{
    /// <summary>The checkout's root; null where the test binaries do not sit inside one.</summary>
    public static readonly string? RootOrNull = Locate();

    public static string Root => RootOrNull ?? throw new DirectoryNotFoundException($"no FederatedPrompts.sln above {AppContext.BaseDirectory}");

    static string? Locate()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "FederatedPrompts.sln"))) return dir.FullName;
        return null;
    }

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);
}
