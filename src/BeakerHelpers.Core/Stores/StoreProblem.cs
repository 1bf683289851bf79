namespace BeakerHelpers.Core.Stores;

/// <summary>
/// Something about one item of a store that the user should hear about while the rest goes on: a file that
/// could not be removed (an error), or a link the store never follows (a warning).
/// </summary>
public sealed record StoreProblem(string ErrorId, string Message, string Path, bool IsError);
