using System.Reflection;
using FederatedPrompts.Discrete.BlackBox;
using FederatedPrompts.Modeling.Classification;

namespace FederatedPrompts.Discrete.Tests;

public class LocalBlackBoxClassifierTests
{
    static readonly TinyModel Tiny = new();

    [Fact]
    public void Interface_answers_with_label_names_only()
    {
        var members = typeof(IBlackBoxClassifier).GetMembers();
        var classify = Assert.IsAssignableFrom<MethodInfo>(Assert.Single(members));
        Assert.Equal(nameof(IBlackBoxClassifier.Classify), classify.Name);
        Assert.Equal(typeof(IReadOnlyList<string>), classify.ReturnType);
        Assert.Equal([typeof(IReadOnlyList<int>), typeof(IReadOnlyList<string>)], classify.GetParameters().Select(p => p.ParameterType));
    }

    [Fact]
    public void Local_service_exposes_labels_and_meters_but_no_model_internals()
    {
        var type = typeof(LocalBlackBoxClassifier);
        var allowed = new[] { typeof(IReadOnlyList<string>), typeof(long), typeof(long?) };
        var declared = type.GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
            .Where(m => m is not ConstructorInfo && !(m is MethodInfo { IsSpecialName: true }));   // property getters are checked as properties
        foreach (var member in declared)
        {
            var exposed = member switch
            {
                PropertyInfo property => property.PropertyType,
                MethodInfo method => method.ReturnType,
                FieldInfo field => field.FieldType,
                _ => throw new Xunit.Sdk.XunitException($"unexpected public member {member}"),
            };
            Assert.True(allowed.Contains(exposed), $"{member.Name} exposes {exposed}");
        }
        Assert.Equal(["Classify"], type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(m => !m.IsSpecialName).Select(m => m.Name));
    }

    [Fact]
    public void Answers_are_the_classifiers_predictions_and_queries_and_tokens_are_counted_exactly()
    {
        var service = new LocalBlackBoxClassifier(new LanguageModelBlackBox(Tiny.Classifier), Tiny.Tokenizer);
        var prompt = Tiny.Encode(" the film was");
        var texts = TinyModel.Texts.Take(5).ToArray();

        var answers = service.Classify(prompt, texts);

        var expected = Tiny.Classifier.Predict(texts, new PromptInput(Discrete: prompt)).Select(i => Tiny.Classifier.Labels[i]);
        Assert.Equal(expected, answers);
        Assert.Equal(5, service.Queries);
        Assert.Equal(texts.Sum(t => prompt.Count + Tiny.Encode(t).Count), service.TokensSent);

        service.Classify(prompt, texts.Take(2).ToArray());
        Assert.Equal(7, service.Queries);
    }

    [Fact]
    public void Budget_allows_exactly_the_budget_and_refuses_a_call_that_would_pass_it_whole()
    {
        var service = new LocalBlackBoxClassifier(new LanguageModelBlackBox(Tiny.Classifier), Tiny.Tokenizer, queryBudget: 6);
        var prompt = Tiny.Encode(" film");
        service.Classify(prompt, TinyModel.Texts.Take(4).ToArray());
        long tokens = service.TokensSent;

        var refused = Assert.Throws<QueryBudgetExceededException>(() => service.Classify(prompt, TinyModel.Texts.Take(3).ToArray()));
        Assert.Equal((6L, 4L, 3), (refused.Budget, refused.Used, refused.Requested));
        Assert.Equal(4, service.Queries);                    // a refused call counts nothing
        Assert.Equal(tokens, service.TokensSent);

        service.Classify(prompt, TinyModel.Texts.Take(2).ToArray());
        Assert.Equal(6, service.Queries);
        Assert.Throws<QueryBudgetExceededException>(() => service.Classify(prompt, TinyModel.Texts.Take(1).ToArray()));
    }
}
