import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Roles } from '../common/access.decorator';
import { CurrentUser, type AuthUser } from '../common/auth-user';
import { NotificationPageDto, NotificationsQuery, StreamQuery } from './notifications.dto';
import { NotificationsService } from './notifications.service';

const POLL_MS = 1_000;
const DEFAULT_STREAM_SECONDS = 300;

@ApiTags('notifications')
@Controller('v1/me/notifications')
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  @Get()
  @Roles('passenger')
  @ApiBearerAuth()
  @ApiOkResponse({ type: NotificationPageDto, description: 'Taps, wallet movements and concession notices after the cursor' })
  page(@CurrentUser() user: AuthUser, @Query() query: NotificationsQuery): Promise<NotificationPageDto> {
    return this.notifications.page(user.id, query.after);
  }

  @Get('stream')
  @Roles('passenger')
  @ApiBearerAuth()
  @ApiProduces('text/event-stream')
  @ApiOkResponse({
    description:
      'Server-Sent Events: the same events as they happen (`id:` the cursor, `event:` the type, `data:` the event as JSON), for `maxSeconds`; EventSource reconnects with Last-Event-ID',
    schema: { type: 'string' },
  })
  async stream(
    @CurrentUser() user: AuthUser,
    @Query() query: StreamQuery,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const resumeFrom = query.after ?? (lastEventId && /^[A-Za-z0-9_-]{1,100}$/.test(lastEventId) ? lastEventId : undefined);
    // The first page before any byte is sent, so a bad cursor is still the contract's 400.
    let page = await this.notifications.page(user.id, resumeFrom);
    const raw = reply.hijack().raw;
    raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    let open = true;
    raw.on('close', () => (open = false));
    const deadline = Date.now() + (query.maxSeconds ?? DEFAULT_STREAM_SECONDS) * 1000;
    const announced = new Set<string>();
    try {
      for (;;) {
        for (const event of page.events) {
          if (event.type.startsWith('concession') && announced.has(event.id)) continue;
          announced.add(event.id);
          raw.write(`id: ${event.type.startsWith('concession') ? page.cursor : event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
        }
        if (!open || Date.now() >= deadline) break;
        await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, deadline - Date.now())));
        if (!open) break;
        page = await this.notifications.page(user.id, page.cursor);
      }
    } finally {
      raw.end();
    }
  }
}
