namespace FederatedPrompts.Core.Tasks;

/// <summary>
/// The text around an input, e.g. <c>"{text} It was"</c>; the model scores the verbalizer words as the next token(s)
/// after the rendered string. The <c>{text}</c> placeholder must occur exactly once.
/// </summary>
public sealed record PromptTemplate
{
    public const string Placeholder = "{text}";

    public PromptTemplate(string pattern)
    {
        var occurrences = pattern.Split(Placeholder).Length - 1;
        if (occurrences != 1)
            throw new ArgumentException(
                $"prompt template '{pattern}' must contain {Placeholder} exactly once (found {occurrences})", nameof(pattern));
        Pattern = pattern;
    }

    public string Pattern { get; }

    public string Render(string text) => Pattern.Replace(Placeholder, text);

    public override string ToString() => Pattern;
}
