using FederatedPrompts.Modeling.Tokenization;

namespace FederatedPrompts.Modeling.Tests;

public class Gpt2PreTokenizerTests
{
    [Theory]
    [InlineData("Hello world", new[] { "Hello", " world" })]
    [InlineData("x  \n\n  y", new[] { "x", "  \n\n ", " y" })] // \s+(?!\S) leaves the last space to the word
    [InlineData("a\n b", new[] { "a", "\n", " b" })]
    [InlineData("a\nb", new[] { "a", "\n", "b" })]
    [InlineData("end   ", new[] { "end", "   " })]
    [InlineData("it's they'LL I'm", new[] { "it", "'s", " they", "'", "LL", " I", "'m" })] // contractions are case-sensitive
    [InlineData("abc123 ?!x", new[] { "abc", "123", " ?!", "x" })]
    [InlineData("naïve e\u0301", new[] { "naïve", " e", "\u0301" })] // a combining mark is not a letter
    [InlineData("word𝐀𝐁mixed x𝟏2", new[] { "word𝐀𝐁mixed", " x", "𝟏2" })] // letters/digits outside the BMP
    [InlineData("🙂👍 ok", new[] { "🙂👍", " ok" })]
    public void Splits_AsTheGpt2Pattern(string text, string[] pieces) =>
        Assert.Equal(pieces, Gpt2PreTokenizer.Split(text).Select(p => text.Substring(p.Offset, p.Length)));
}
