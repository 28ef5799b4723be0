import { Controller, Get, Header, Headers, Inject, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Public } from '../common/access.decorator';
import { bearerToken } from '../common/authenticator';
import { DomainError } from '../common/domain-error';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { MetricsService } from './metrics.service';

/**
 * Prometheus' scrape. With METRICS_TOKEN set (required in production) it answers only
 * `Authorization: Bearer <METRICS_TOKEN>`: the figures name the Node version, every route and its
 * error counts, which are nobody else's business.
 */
@ApiExcludeController()
@Public()
@Controller('metrics')
export class MetricsController {
  private readonly tokenDigest: Buffer | undefined;

  constructor(
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.tokenDigest = config.metricsToken === undefined ? undefined : digest(config.metricsToken);
  }

  @Get()
  @Header('Cache-Control', 'no-store')
  async scrape(@Headers('authorization') authorization: string | undefined, @Res() reply: FastifyReply): Promise<void> {
    if (this.tokenDigest !== undefined) {
      const token = bearerToken(authorization);
      // Digests of equal length, so the comparison takes the same time whatever was sent.
      if (token === undefined || !timingSafeEqual(digest(token), this.tokenDigest)) {
        throw new DomainError('unauthenticated', 'UNAUTHENTICATED', 'Send Authorization: Bearer <METRICS_TOKEN>');
      }
    }
    await reply.type(this.metrics.contentType).send(await this.metrics.render());
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
