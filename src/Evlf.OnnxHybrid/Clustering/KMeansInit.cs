namespace Evlf.OnnxHybrid.Clustering;

/// <summary>How k-means picks its starting centres.</summary>
public enum KMeansInit
{
    /// <summary>Greedy k-means++ (Arthur and Vassilvitskii 2007): each new centre is the best of several D²-weighted draws.</summary>
    KMeansPlusPlus,

    /// <summary>k distinct rows chosen uniformly at random.</summary>
    Random,
}
