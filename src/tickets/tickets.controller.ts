import { Body, Controller, Get, Header, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public, Roles } from '../common/access.decorator';
import { CurrentUser, type AuthUser } from '../common/auth-user';
import { ApiIdempotencyKey, IdempotencyKey, type IdempotentRequest } from '../payments/idempotency';
import type { RenderedQr } from './qr-image';
import { QrTokens } from './qr-tokens';
import { JsonWebKeySetDto, ListTicketsQuery, QrQuery, RevokeTicketDto, TicketDto } from './tickets.dto';
import { TicketsService } from './tickets.service';

const QR_RESPONSE = { description: 'The QR code (PNG or SVG), or the token itself (text): each decodes to exactly the token a gate verifies', schema: { type: 'string', format: 'binary' } };

@ApiTags('tickets')
@Controller('v1')
export class TicketsController {
  constructor(
    private readonly tickets: TicketsService,
    private readonly qrTokens: QrTokens,
  ) {}

  @Get('tickets')
  @Roles('passenger')
  @ApiBearerAuth()
  @ApiOkResponse({ type: [TicketDto], description: 'Your tickets, newest first' })
  list(@CurrentUser() user: AuthUser, @Query() query: ListTicketsQuery): Promise<TicketDto[]> {
    return this.tickets.list(user.id, query);
  }

  @Get('tickets/:id')
  @Roles('passenger')
  @ApiBearerAuth()
  @ApiOkResponse({ type: TicketDto })
  @ApiNotFoundResponse({ description: 'No such ticket of yours' })
  get(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<TicketDto> {
    return this.tickets.get(user.id, id);
  }

  @Get('tickets/:id/qr')
  @Roles('passenger')
  @ApiBearerAuth()
  @ApiProduces('image/png', 'image/svg+xml', 'text/plain')
  @ApiOkResponse(QR_RESPONSE)
  @ApiConflictResponse({ description: 'TICKET_NOT_ACTIVE: refunded or revoked' })
  async ticketQr(@CurrentUser() user: AuthUser, @Param('id') id: string, @Query() query: QrQuery, @Res({ passthrough: true }) reply: FastifyReply): Promise<Buffer | string> {
    return send(reply, await this.tickets.ticketQr(user.id, id, query.format ?? 'png'));
  }

  @Post('tickets/:id/refund')
  @Roles('passenger')
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiIdempotencyKey()
  @ApiOkResponse({ type: TicketDto, description: 'Refunded: its price is back in the wallet' })
  @ApiConflictResponse({ description: 'TICKET_ALREADY_USED, TICKET_NOT_ACTIVE or TICKET_EXPIRED: nothing was refunded' })
  refund(@CurrentUser() user: AuthUser, @Param('id') id: string, @IdempotencyKey() idempotency: IdempotentRequest): Promise<TicketDto> {
    return this.tickets.refund(user.id, id, idempotency);
  }

  @Get('me/qr')
  @Roles('passenger')
  @ApiBearerAuth()
  @ApiProduces('image/png', 'image/svg+xml', 'text/plain')
  @ApiOkResponse({ ...QR_RESPONSE, description: 'The pay-as-you-go credential: fares are charged to the wallet at exit' })
  async accountQr(@CurrentUser() user: AuthUser, @Query() query: QrQuery, @Res({ passthrough: true }) reply: FastifyReply): Promise<Buffer | string> {
    return send(reply, await this.tickets.accountQr(user.id, user.riderCategory ?? 'adult', user.riderCategoryEndsAt ?? null, query.format ?? 'png'));
  }

  @Get('keys')
  @Public()
  @Header('cache-control', 'public, max-age=300')
  @ApiOkResponse({ type: JsonWebKeySetDto, description: 'JWKS: the public keys that verify QR codes offline' })
  keys(): JsonWebKeySetDto {
    return this.qrTokens.jwks();
  }

  @Post('admin/tickets/:id/revoke')
  @Roles('admin')
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOkResponse({ type: TicketDto, description: 'Revoked (or already revoked): gates refuse it' })
  @ApiConflictResponse({ description: 'TICKET_NOT_ACTIVE: it was refunded' })
  revoke(@CurrentUser() admin: AuthUser, @Param('id') id: string, @Body() body: RevokeTicketDto): Promise<TicketDto> {
    return this.tickets.revoke(admin, id, body.reason);
  }
}

function send(reply: FastifyReply, qr: RenderedQr): Buffer | string {
  void reply.header('content-type', qr.contentType).header('cache-control', 'no-store');
  return qr.body;
}
