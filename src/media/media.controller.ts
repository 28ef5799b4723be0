import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { Roles } from '../common/access.decorator';
import { CurrentUser, type AuthUser } from '../common/auth-user';
import { LinkMediumDto, MediumBlockDto, MediumDetailDto, MediumDto, RegisterTransitCardsDto, RegisteredCardsDto } from './media.dto';
import { MediaService } from './media.service';

@ApiTags('media')
@ApiBearerAuth()
@Controller('v1')
export class MediaController {
  constructor(private readonly media: MediaService) {}

  @Get('me/media')
  @Roles('passenger')
  @ApiOkResponse({ type: [MediumDto], description: "The caller's media, oldest first" })
  list(@CurrentUser() user: AuthUser): Promise<MediumDto[]> {
    return this.media.list(user.id);
  }

  @Post('me/media')
  @Roles('passenger')
  @ApiCreatedResponse({ type: MediumDto, description: 'Linked; with one active card per account, the others are now replaced' })
  @ApiConflictResponse({ description: 'MEDIUM_LINKED_ELSEWHERE, MEDIUM_BLOCKED' })
  @ApiUnprocessableEntityResponse({ description: 'CARD_NOT_ISSUED, BIRTH_DATE_MISMATCH, INVALID_PUBLIC_KEY' })
  link(@CurrentUser() user: AuthUser, @Body() body: LinkMediumDto): Promise<MediumDto> {
    return this.media.link(user.id, body);
  }

  @Get('me/media/:id')
  @Roles('passenger')
  @ApiOkResponse({ type: MediumDetailDto })
  @ApiNotFoundResponse({ description: 'No such medium of yours' })
  get(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<MediumDetailDto> {
    return this.media.get(user.id, id);
  }

  @Post('me/media/:id/lost')
  @Roles('passenger')
  @HttpCode(200)
  @ApiOkResponse({ type: MediumDto, description: 'Blocked at once at every gate; validators learn it from GET /v1/denylist' })
  @ApiNotFoundResponse({ description: 'No such medium of yours' })
  @ApiConflictResponse({ description: 'MEDIUM_REPLACED' })
  lost(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<MediumDto> {
    return this.media.reportLost(user.id, id);
  }

  @Post('me/media/:id/credential')
  @Roles('passenger')
  @HttpCode(200)
  @ApiOkResponse({ type: MediumDto, description: "The app's virtual card with a new credential for the same phone key, at the account's rider category now" })
  @ApiNotFoundResponse({ description: 'No such medium of yours' })
  @ApiConflictResponse({ description: 'MEDIUM_BLOCKED, MEDIUM_REPLACED, NOT_AN_APP_MEDIUM' })
  renewCredential(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<MediumDto> {
    return this.media.renewCredential(user.id, id);
  }

  @Post('admin/transit-cards')
  @Roles('admin')
  @ApiCreatedResponse({ type: RegisteredCardsDto, description: 'Each card, registered now or before' })
  register(@CurrentUser() admin: AuthUser, @Body() body: RegisterTransitCardsDto): Promise<RegisteredCardsDto> {
    return this.media.registerTransitCards(admin, body.cards);
  }

  @Post('admin/media/:id/block')
  @Roles('admin', 'support')
  @HttpCode(200)
  @ApiOkResponse({ type: MediumDto })
  @ApiNotFoundResponse({ description: 'No such medium' })
  block(@CurrentUser() staff: AuthUser, @Param('id') id: string, @Body() body: MediumBlockDto): Promise<MediumDto> {
    return this.media.setBlocked(staff, id, true, body.reason);
  }

  @Post('admin/media/:id/unblock')
  @Roles('admin', 'support')
  @HttpCode(200)
  @ApiOkResponse({ type: MediumDto, description: "Active again; with one active card per account, the account's others are replaced" })
  @ApiNotFoundResponse({ description: 'No such medium' })
  unblock(@CurrentUser() staff: AuthUser, @Param('id') id: string, @Body() body: MediumBlockDto): Promise<MediumDto> {
    return this.media.setBlocked(staff, id, false, body.reason);
  }
}
