namespace FederatedPrompts.Core;

/// <summary>A data or prompt file that cannot be used; the message names the file and, where known, the 1-based line.</summary>
public sealed class DataFileException : Exception
{
    public DataFileException(string path, int? line, string problem, Exception? inner = null)
        : base(line is null ? $"{path}: {problem}" : $"{path}:{line}: {problem}", inner)
    {
        Path = path;
        Line = line;
        Problem = problem;
    }

    public string Path { get; }
    public int? Line { get; }
    public string Problem { get; }
}
