/**
 * A pause for the event loop inside a long loop of small synchronous steps
 * (rendering 3,000 step messages whose hashes are unchanged never awaits real
 * I/O, only microtasks, so nothing else runs until the loop ends). Call the
 * returned function each round: once `budgetMs` of work has passed it yields
 * a macrotask, letting Slack's requests and /healthz in.
 */
export function breather(budgetMs = 10): () => Promise<void> {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < budgetMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    since = performance.now();
  };
}
