using System.Runtime.ExceptionServices;

namespace BeakerHelpers.Core.Threading;

/// <summary>
/// Work run on several threads at once (a listing's servers, a table's parts): the first to fail stops the others
/// through the token each is given, and its failure, not the cancellations it caused, is the caller's.
/// </summary>
internal static class AllAtOnce
{
    public static T[] Run<T>(int count, Func<int, CancellationToken, T> work, CancellationToken cancellationToken)
    {
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var tasks = Enumerable.Range(0, count).Select(i => Task.Run(() =>
        {
            try
            {
                return work(i, failed.Token);
            }
            catch
            {
                failed.Cancel();
                throw;
            }
        }, CancellationToken.None)).ToArray();
        try
        {
            Task.WaitAll(tasks, CancellationToken.None);
        }
        catch (AggregateException)
        {
            var errors = tasks.Where(t => t.IsFaulted).SelectMany(t => t.Exception!.InnerExceptions).ToList();
            ExceptionDispatchInfo.Throw(errors.FirstOrDefault(e => e is not OperationCanceledException) ?? errors.FirstOrDefault() ?? new OperationCanceledException(cancellationToken));
        }

        return tasks.Select(t => t.Result).ToArray();
    }
}
