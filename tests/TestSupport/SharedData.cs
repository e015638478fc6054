namespace FederatedPrompts.TestSupport;

/// <summary>
/// Locates <c>../shared/data</c> beside the repository (or <c>FEDPROMPT_SHARED_DATA</c>). A user's fresh clone has
/// none, so tests that need it use <see cref="SharedDataFactAttribute"/> and are skipped with a reason.
/// </summary>
public static class SharedData
{
    public static readonly string? Root = Locate();

    static string? Locate()
    {
        var fromEnv = Environment.GetEnvironmentVariable("FEDPROMPT_SHARED_DATA");
        if (!string.IsNullOrEmpty(fromEnv)) return Directory.Exists(fromEnv) ? Path.GetFullPath(fromEnv) : null;
        if (Repository.RootOrNull is not { } root) return null;
        var data = Path.Combine(root, "..", "shared", "data");
        return Directory.Exists(data) ? Path.GetFullPath(data) : null;
    }

    public const string SkipReason = "../shared/data is absent (it sits beside the checkout on developer machines and CI)";

    /// <summary>Path under the shared data folder; only call from tests marked with the attributes below.</summary>
    public static string Under(params string[] parts) => Path.Combine([Root!, .. parts]);
}

public sealed class SharedDataFactAttribute : FactAttribute
{
    public SharedDataFactAttribute() { if (SharedData.Root is null) Skip = SharedData.SkipReason; }
}

public sealed class SharedDataTheoryAttribute : TheoryAttribute
{
    public SharedDataTheoryAttribute() { if (SharedData.Root is null) Skip = SharedData.SkipReason; }
}
