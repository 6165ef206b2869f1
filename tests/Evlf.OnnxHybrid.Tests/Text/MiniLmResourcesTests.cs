using Evlf.OnnxHybrid.Text;

namespace Evlf.OnnxHybrid.Tests.Text;

public sealed class MiniLmResourcesTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("evlf-minilm-").FullName;

    [Fact]
    public void Extracts_verified_files_and_repairs_a_corrupted_cache()
    {
        var files = MiniLmResources.Ensure(dir);
        Assert.Equal(Path.Combine(dir, "model.onnx"), files.ModelPath);
        Assert.Equal(MiniLmResources.ModelSha256, MiniLmResources.Sha256(files.ModelPath));
        Assert.Equal(MiniLmResources.VocabSha256, MiniLmResources.Sha256(files.VocabPath));
        Assert.Equal(90_893_304, new FileInfo(files.ModelPath).Length);
        Assert.Equal(MiniLmResources.VocabularySize, File.ReadAllLines(files.VocabPath).Length);

        // A cached file that no longer matches its checksum is extracted again.
        using (var f = new FileStream(files.VocabPath, FileMode.Open)) { f.Position = 10; f.WriteByte((byte)'#'); }
        Assert.NotEqual(MiniLmResources.VocabSha256, MiniLmResources.Sha256(files.VocabPath));
        var modelTime = File.GetLastWriteTimeUtc(files.ModelPath);
        MiniLmResources.Ensure(dir);
        Assert.Equal(MiniLmResources.VocabSha256, MiniLmResources.Sha256(files.VocabPath));
        Assert.Equal(modelTime, File.GetLastWriteTimeUtc(files.ModelPath)); // the intact file is left alone

        // Writes go through temporary names that never stay behind.
        Assert.Equal(new[] { "model.onnx", "vocab.txt" }, Directory.GetFiles(dir).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void The_package_copies_the_files_beside_the_application()
    {
        var shipped = Path.Combine(AppContext.BaseDirectory, MiniLmResources.ShippedFolder);
        Assert.Equal(shipped, MiniLmResources.ShippedDirectories()[0]);
        Assert.Equal(MiniLmResources.VocabSha256, MiniLmResources.Sha256(Path.Combine(shipped, "vocab.txt")));
    }

    [Fact]
    public void Missing_package_files_are_a_user_error_naming_the_package()
    {
        var nowhere = Path.Combine(dir, "no-minilm");
        var e = Assert.Throws<UserInputException>(() => MiniLmResources.Ensure(Path.Combine(dir, "cache"), [nowhere]));
        Assert.Equal($"MiniLM's model.onnx is not in '{nowhere}'; expected it there from NuGet package Evlf.OnnxHybrid.MiniLM, which Evlf.OnnxHybrid references (restore and build the application again).", e.Message);
    }

    [Fact]
    public void A_shipped_file_with_another_checksum_is_refused()
    {
        var shipped = Directory.CreateDirectory(Path.Combine(dir, "shipped")).FullName;
        File.WriteAllText(Path.Combine(shipped, "model.onnx"), "not the model");
        var e = Assert.Throws<UserInputException>(() => MiniLmResources.Ensure(Path.Combine(dir, "cache"), [shipped]));
        Assert.Contains("expected " + MiniLmResources.ModelSha256, e.Message);
        Assert.False(File.Exists(Path.Combine(dir, "cache", "model.onnx")));
    }

    [Fact]
    public void Cache_root_follows_evlf_cache()
    {
        var saved = Environment.GetEnvironmentVariable(MiniLmResources.CacheVariable);
        try
        {
            Environment.SetEnvironmentVariable(MiniLmResources.CacheVariable, dir);
            Assert.Equal(Path.Combine(dir, "minilm", "24.9.52193"), MiniLmResources.DefaultDirectory());
        }
        finally { Environment.SetEnvironmentVariable(MiniLmResources.CacheVariable, saved); }
    }

    [Fact]
    public void An_unwritable_cache_is_a_user_error()
    {
        var file = Path.Combine(dir, "not-a-folder");
        File.WriteAllText(file, "");
        var e = Assert.Throws<UserInputException>(() => MiniLmResources.Ensure(Path.Combine(file, "sub")));
        Assert.Contains("EVLF_CACHE", e.Message);
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);
}
