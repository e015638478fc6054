using FederatedPrompts.Core.Tasks;

namespace FederatedPrompts.Core.Tests.Tasks;

public sealed class TaskFileTests : IDisposable
{
    readonly TempFolder _dir = new();
    public void Dispose() => _dir.Dispose();

    static LabeledExample[] Pairs(TaskDataset dataset) => dataset.Examples.ToArray();

    [Fact]
    public void Jsonl_reads_examples_skips_blank_lines_and_accepts_numeric_labels()
    {
        var path = _dir.Write("t.jsonl",
            "{\"text\": \"good film\", \"label\": \"positive\", \"id\": 7}\n\n{\"label\": 1, \"text\": \"bad\"}\r\n{\"text\":\"ok\",\"label\":\" 0 \"}\n");
        var dataset = TaskFile.Load(path);
        Assert.Equal([new("good film", "positive"), new("bad", "1"), new("ok", "0")], Pairs(dataset));
        Assert.Equal(["0", "1", "positive"], dataset.Labels);
        Assert.Equal(path, dataset.Source);
    }

    [Theory]
    [InlineData("{\"text\": \"a\", \"label\": \"x\"\n", "malformed JSON")]
    [InlineData("[\"a\", \"x\"]\n", "expected a JSON object")]
    [InlineData("{\"label\": \"x\"}\n", "missing \"text\"")]
    [InlineData("{\"text\": \"  \", \"label\": \"x\"}\n", "empty \"text\"")]
    [InlineData("{\"text\": \"a\"}\n", "missing \"label\"")]
    [InlineData("{\"text\": \"a\", \"label\": null}\n", "missing \"label\"")]
    [InlineData("{\"text\": \"a\", \"label\": \"\"}\n", "empty \"label\"")]
    [InlineData("{\"text\": \"a\", \"label\": true}\n", "\"label\" must be a string or number, got True")]
    [InlineData("{\"text\": 5, \"label\": \"x\"}\n", "\"text\" must be a string, got Number")]
    public void Jsonl_errors_name_file_line_and_problem(string badLine, string problem)
    {
        var path = _dir.Write("bad.jsonl", "{\"text\": \"fine\", \"label\": \"x\"}\n\n" + badLine);
        var error = Assert.Throws<DataFileException>(() => TaskFile.Load(path));
        Assert.Equal(3, error.Line);
        Assert.StartsWith($"{path}:3: ", error.Message);
        Assert.Contains(problem, error.Message);
        Assert.Contains("bad.jsonl", error.Message);
    }

    [Fact]
    public void Csv_handles_quoted_commas_doubled_quotes_newlines_crlf_and_any_column_order()
    {
        var path = _dir.Write("t.csv",
            "id,label,text,extra\r\n" +
            "1,positive,\"fine, really fine\",x\r\n" +
            "2,negative,\"she said \"\"no\"\"\",\r\n" +
            "3,positive,\"two\nlines\",\"\"\r\n" +
            "4,negative,plain,\"\"\"\"");
        Assert.Equal(
            [new("fine, really fine", "positive"), new("she said \"no\"", "negative"),
             new("two\nlines", "positive"), new("plain", "negative")],
            Pairs(TaskFile.Load(path)));
    }

    [Fact]
    public void Csv_error_line_counts_physical_lines_including_those_inside_quoted_fields()
    {
        var path = _dir.Write("t.csv", "text,label\n\"multi\nline\",a\n\"x\",\n");
        var error = Assert.Throws<DataFileException>(() => TaskFile.Load(path));
        Assert.Equal(4, error.Line);
        Assert.Contains("empty \"label\"", error.Message);
    }

    [Theory]
    [InlineData("text,label\na,b\n\"never closed,b\n", 3, "never closed")]
    [InlineData("text,label\n\"quoted\"tail,b\n", 2, "after a closing quote")]
    [InlineData("text,label\nhalf\"quote,b\n", 2, "quote inside an unquoted field")]
    [InlineData("text,label\na,b,c\n", 2, "row has 3 fields but the header has 2")]
    [InlineData("text,label\nonly\n", 2, "row has 1 fields but the header has 2")]
    [InlineData("words,label\na,b\n", 1, "no \"text\" column")]
    [InlineData("text,label,Label\na,b,c\n", 1, "2 \"label\" columns")]
    public void Csv_errors_name_file_line_and_problem(string content, int line, string problem)
    {
        var path = _dir.Write("bad.csv", content);
        var error = Assert.Throws<DataFileException>(() => TaskFile.Load(path));
        Assert.Equal(line, error.Line);
        Assert.StartsWith($"{path}:{line}: ", error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void Tsv_splits_on_tabs_without_quoting_and_ignores_extra_columns()
    {
        var path = _dir.Write("t.tsv", "label\tsource\ttext\r\nham\tmail\tsay \"hi\", friend\nspam\tweb\tWIN NOW\n");
        Assert.Equal([new("say \"hi\", friend", "ham"), new("WIN NOW", "spam")], Pairs(TaskFile.Load(path)));
    }

    [Fact]
    public void Tsv_row_with_wrong_field_count_names_its_line()
    {
        var path = _dir.Write("bad.tsv", "text\tlabel\na\tb\nno tab here\n");
        var error = Assert.Throws<DataFileException>(() => TaskFile.Load(path));
        Assert.Equal(3, error.Line);
    }

    [Theory]
    [InlineData("empty.jsonl", "")]
    [InlineData("blank.jsonl", "\n\n")]
    [InlineData("empty.csv", "")]
    [InlineData("header-only.csv", "text,label\n")]
    [InlineData("header-only.tsv", "text\tlabel\n")]
    public void Files_without_examples_are_rejected(string name, string content)
    {
        var path = _dir.Write(name, content);
        var error = Assert.Throws<DataFileException>(() => TaskFile.Load(path));
        Assert.Equal($"{path}: no examples in the file", error.Message);
    }

    [Fact]
    public void Unknown_extension_is_rejected_by_name()
    {
        var path = _dir.Write("data.txt", "text,label\na,b\n");
        var error = Assert.Throws<DataFileException>(() => TaskFile.Load(path));
        Assert.Contains("data.txt", error.Message);
        Assert.Contains("unknown extension '.txt'", error.Message);
    }

    [Fact]
    public void Extension_match_ignores_case()
    {
        var path = _dir.Write("T.CSV", "text,label\na,b\n");
        Assert.Single(TaskFile.Load(path).Examples);
    }
}
