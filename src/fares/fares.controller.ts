import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiOkResponse, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { Public, Roles } from '../common/access.decorator';
import { CurrentUser, type AuthUser } from '../common/auth-user';
import {
  AmendProductDto,
  CreateFareTableDto,
  CreateProductDto,
  CreateWaiverDto,
  FareQuoteDto,
  FareTableDto,
  ListProductsQuery,
  ProductDto,
  QuoteQuery,
  WaiverDto,
} from './fares.dto';
import { FaresService } from './fares.service';

@ApiTags('fares')
@Controller('v1')
export class FaresController {
  constructor(private readonly fares: FaresService) {}

  @Get('products')
  @Public()
  @ApiOkResponse({ type: [ProductDto], description: 'The catalogue on sale at `at` (default now)' })
  listProducts(@Query() query: ListProductsQuery): ProductDto[] {
    return this.fares.listProducts(query);
  }

  @Get('fares/quote')
  @Public()
  @ApiOkResponse({ type: FareQuoteDto, description: 'The fare the gate would charge for this trip' })
  @ApiUnprocessableEntityResponse({ description: 'NO_FARE_TABLE or NO_FARE_RULE: no fare in force for that line at that time' })
  quote(@Query() query: QuoteQuery, @CurrentUser() user: AuthUser | undefined): FareQuoteDto {
    return this.fares.quote(query, user);
  }

  @Post('admin/products')
  @Roles('admin')
  @ApiBearerAuth()
  @ApiCreatedResponse({ type: ProductDto })
  @ApiConflictResponse({ description: 'PRODUCT_EXISTS' })
  createProduct(@CurrentUser() admin: AuthUser, @Body() body: CreateProductDto): Promise<ProductDto> {
    return this.fares.createProduct(admin, body);
  }

  @Patch('admin/products/:id')
  @Roles('admin')
  @ApiBearerAuth()
  @HttpCode(200)
  @ApiOkResponse({ type: ProductDto, description: 'The new version; earlier versions and what was sold under them are unchanged' })
  @ApiConflictResponse({ description: 'OVERLAPPING_VERSION: a version with that effectiveFrom exists' })
  amendProduct(@CurrentUser() admin: AuthUser, @Param('id') id: string, @Body() body: AmendProductDto): Promise<ProductDto> {
    return this.fares.amendProduct(admin, id, body);
  }

  @Post('admin/fare-tables')
  @Roles('admin')
  @ApiBearerAuth()
  @ApiCreatedResponse({ type: FareTableDto, description: 'A new version of the whole single-trip tariff, in force from effectiveFrom' })
  @ApiConflictResponse({ description: 'OVERLAPPING_VERSION: a fare table with that effectiveFrom exists' })
  createFareTable(@CurrentUser() admin: AuthUser, @Body() body: CreateFareTableDto): Promise<FareTableDto> {
    return this.fares.createFareTable(admin, body);
  }

  @Post('admin/waivers')
  @Roles('admin')
  @ApiBearerAuth()
  @ApiCreatedResponse({ type: WaiverDto })
  createWaiver(@CurrentUser() admin: AuthUser, @Body() body: CreateWaiverDto): Promise<WaiverDto> {
    return this.fares.createWaiver(admin, body);
  }
}
