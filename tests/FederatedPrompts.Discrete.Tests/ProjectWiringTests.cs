namespace FederatedPrompts.Discrete.Tests;

public class ProjectWiringTests
{
    [Fact]
    public void Discrete_project_references_modeling_and_nothing_of_the_federation()
    {
        var references = typeof(ProjectWiringTests).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToList();
        Assert.DoesNotContain(references, name => name!.StartsWith("Grpc"));
    }
}
