import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Public, Roles } from '../common/access.decorator';
import { CurrentUser, type AuthUser } from '../common/auth-user';
import { LoginDto, ProfileDto, RefreshDto, RegisterDto, RegisteredDto, TokenPairDto } from './accounts.dto';
import { AccountsService } from './accounts.service';

@ApiTags('accounts')
@Controller('v1')
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @Post('auth/register')
  @Public()
  @ApiCreatedResponse({ type: RegisteredDto })
  @ApiConflictResponse({ description: 'EMAIL_TAKEN: an account has this address, or one that looks the same' })
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED: too many registrations from this address, with Retry-After in seconds' })
  register(@Body() body: RegisterDto, @Req() request: FastifyRequest): Promise<RegisteredDto> {
    return this.accounts.register(body, request.ip);
  }

  @Post('auth/login')
  @Public()
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairDto })
  @ApiUnauthorizedResponse({ description: 'INVALID_CREDENTIALS, the same for an unknown email and a wrong password' })
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED, with Retry-After in seconds' })
  login(@Body() body: LoginDto, @Req() request: FastifyRequest): Promise<TokenPairDto> {
    return this.accounts.login(body, request.ip);
  }

  @Post('auth/refresh')
  @Public()
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairDto, description: 'A new pair; the refresh token sent is spent' })
  @ApiUnauthorizedResponse({ description: 'TOKEN_INVALID, TOKEN_EXPIRED, TOKEN_REVOKED, or REFRESH_TOKEN_REUSED (the session is ended)' })
  refresh(@Body() body: RefreshDto): Promise<TokenPairDto> {
    return this.accounts.refresh(body.refreshToken);
  }

  @Post('auth/logout')
  @Public()
  @HttpCode(204)
  @ApiNoContentResponse({ description: "The refresh token's session is ended, with its access tokens" })
  logout(@Body() body: RefreshDto): Promise<void> {
    return this.accounts.logout(body.refreshToken);
  }

  @Get('me')
  @Roles('passenger', 'operator', 'admin')
  @ApiBearerAuth()
  @ApiOkResponse({ type: ProfileDto })
  me(@CurrentUser() user: AuthUser): Promise<ProfileDto> {
    return this.accounts.profile(user.id);
  }
}
