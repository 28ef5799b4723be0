import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/access.decorator';
import { CurrentUser, type AuthUser } from '../common/auth-user';
import { ClaimConcessionDto, ConcessionClaimDto, ConcessionDecisionDto, ListClaimsQuery } from './concessions.dto';
import { ConcessionsService } from './concessions.service';

@ApiTags('concessions')
@ApiBearerAuth()
@Controller('v1')
export class ConcessionsController {
  constructor(private readonly concessions: ConcessionsService) {}

  @Post('me/concessions')
  @Roles('passenger')
  @ApiCreatedResponse({ type: ConcessionClaimDto, description: 'A pending claim' })
  @ApiConflictResponse({ description: 'CONCESSION_CLAIM_PENDING: one for this category is already waiting' })
  claim(@CurrentUser() user: AuthUser, @Body() body: ClaimConcessionDto): Promise<ConcessionClaimDto> {
    return this.concessions.claim(user.id, body);
  }

  @Get('me/concessions')
  @Roles('passenger')
  @ApiOkResponse({ type: [ConcessionClaimDto] })
  listOwn(@CurrentUser() user: AuthUser): Promise<ConcessionClaimDto[]> {
    return this.concessions.listOwn(user.id);
  }

  @Get('me/concessions/:id')
  @Roles('passenger')
  @ApiOkResponse({ type: ConcessionClaimDto })
  @ApiNotFoundResponse({ description: 'No such claim of yours' })
  getOwn(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<ConcessionClaimDto> {
    return this.concessions.getOwn(user.id, id);
  }

  @Get('admin/concessions')
  @Roles('admin')
  @ApiOkResponse({ type: [ConcessionClaimDto], description: 'Oldest first' })
  listForReview(@Query() query: ListClaimsQuery): Promise<ConcessionClaimDto[]> {
    return this.concessions.listForReview(query);
  }

  @Post('admin/concessions/:id/decision')
  @Roles('admin')
  @HttpCode(200)
  @ApiOkResponse({ type: ConcessionClaimDto, description: 'The decided claim' })
  @ApiNotFoundResponse({ description: 'No such claim' })
  @ApiConflictResponse({ description: 'CONCESSION_ALREADY_DECIDED' })
  decide(@CurrentUser() admin: AuthUser, @Param('id') id: string, @Body() body: ConcessionDecisionDto): Promise<ConcessionClaimDto> {
    return this.concessions.decide(admin, id, body);
  }
}
