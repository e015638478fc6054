using System.Text;
using FederatedPrompts.Protocol;

namespace FederatedPrompts.Protocol.Tests;

public class InferenceLimitsTests
{
    [Fact]
    public void A_text_within_the_limit_is_sent_as_it_is()
    {
        string text = new('a', InferenceLimits.MaxTextBytes);
        Assert.Same(text, InferenceLimits.Tail(text));
    }

    /// <summary>ASCII keeps the last 65,536 characters; "é" (2 bytes) the last 32,768; "😀" (4 bytes, a surrogate pair) the last 16,384, never half a pair.</summary>
    [Theory]
    [InlineData("x", 65_536)]
    [InlineData("é", 32_768)]
    [InlineData("😀", 32_768)]
    public void A_longer_text_keeps_its_tail_of_whole_characters_within_the_limit(string unit, int keptChars)
    {
        string text = "start " + string.Concat(Enumerable.Repeat(unit, 70_000)) + " end";
        string tail = InferenceLimits.Tail(text);
        Assert.EndsWith(" end", tail);
        Assert.InRange(Encoding.UTF8.GetByteCount(tail), InferenceLimits.MaxTextBytes - 3, InferenceLimits.MaxTextBytes);
        Assert.Equal(keptChars, tail.Length, tolerance: 4);
        Assert.False(char.IsLowSurrogate(tail[0]), "the tail starts inside a surrogate pair");
    }
}
