namespace Evlf.OnnxHybrid.Data;

/// <summary>
/// Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017): 28×28 grayscale, 10 classes, 60 000 train and 10 000 test
/// images in IDX files. Found in $EVLF_DATA (the folder itself or its fashion-mnist subfolder), then in
/// /usr/share/datasets/fashion-mnist, where Debian's package dataset-fashion-mnist installs it.
/// </summary>
public static class FashionMnist
{
    /// <summary>The folder Debian's dataset-fashion-mnist package installs.</summary>
    public const string SystemDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>The environment variable naming a data folder searched first.</summary>
    public const string DataEnvironmentVariable = "EVLF_DATA";

    /// <summary>The dataset's canonical class names, label 0 to 9.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>The same classes in words a text encoder reads naturally (for prompts such as "a photo of a {0}").</summary>
    public static IReadOnlyList<string> PromptNames { get; } =
        ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot"];

    /// <summary>Per-channel mean and std of the training pixels in [0, 1] (DESIGN §7), for <see cref="Normalization.MeanStd"/>.</summary>
    public static (float Mean, float Std) Statistics => (0.2861f, 0.3530f);

    /// <summary>Opens Fashion-MNIST from the first folder <see cref="Locate"/> finds.</summary>
    public static ImageDataset Open(DatasetOptions? options = null)
    {
        var dir = Locate();
        return IdxReader.Open(dir, ClassNames, $"fashion-mnist ({dir})", options);
    }

    /// <summary>
    /// The folder holding Fashion-MNIST's IDX files: $EVLF_DATA, then $EVLF_DATA/fashion-mnist, then
    /// <paramref name="systemDirectory"/>. A folder counts when it has train-images-idx3-ubyte(.gz).
    /// </summary>
    public static string Locate(string? evlfData = null, string systemDirectory = SystemDirectory)
    {
        evlfData ??= Environment.GetEnvironmentVariable(DataEnvironmentVariable);
        var candidates = new List<string>();
        if (!string.IsNullOrWhiteSpace(evlfData))
        {
            candidates.Add(evlfData);
            candidates.Add(Path.Combine(evlfData, "fashion-mnist"));
        }
        candidates.Add(systemDirectory);
        foreach (var dir in candidates)
            if (File.Exists(Path.Combine(dir, "train-images-idx3-ubyte.gz")) || File.Exists(Path.Combine(dir, "train-images-idx3-ubyte")))
                return dir;
        throw new UserInputException(
            $"Fashion-MNIST was not found in {string.Join(", ", candidates.Select(c => $"'{c}'"))}; install it with 'apt-get install dataset-fashion-mnist' or set {DataEnvironmentVariable} to a folder holding its IDX files.");
    }
}
