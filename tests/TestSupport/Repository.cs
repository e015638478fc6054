namespace FederatedPrompts.TestSupport;

/// <summary>Files committed in this repository (found by walking up to FederatedPrompts.sln), such as bench/teacher's models.</summary>
public static class Repository
{
    public static readonly string Root = Locate();

    static string Locate()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "FederatedPrompts.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no FederatedPrompts.sln above {AppContext.BaseDirectory}");
    }

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);
}
