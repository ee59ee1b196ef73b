import type { App } from '@slack/bolt';
import type { BotDeps } from '../../deps.js';

/**
 * `app_home_opened`: the person looks at the app's Home tab, so it is
 * published for them now (and refreshed while runs they are involved in
 * change). Bolt acknowledges events itself; a retried delivery publishes
 * again, which is harmless. The Messages tab needs nothing.
 */
export function registerAppHome(app: App, deps: BotDeps): void {
  app.event('app_home_opened', async ({ event }) => {
    if (event.tab !== 'home') return;
    await deps.home.opened(event.user);
  });
}
