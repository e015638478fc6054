namespace FederatedPrompts.Core.Tests;

/// <summary>A fresh folder for one test's files, deleted afterwards.</summary>
sealed class TempDirectory : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("fedprompt-core-").FullName;

    /// <summary>Writes <paramref name="content"/> verbatim (no newline translation) and returns the path.</summary>
    public string Write(string name, string content)
    {
        var path = Path.Combine(Root, name);
        File.WriteAllText(path, content);
        return path;
    }

    public string PathOf(string name) => Path.Combine(Root, name);

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
