import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { gateRouteDocs } from '../validation/gate.route';
import { TapDto, TapVerdictDto } from '../validation/validation.dto';

/** The OpenAPI document, generated from the controllers and DTOs, and the gate route's entry (it has no controller). */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Liên Thông API')
    .setDescription('Account-based, interoperable ticketing for Hà Nội public transport (contract v1)')
    .setVersion('1')
    .addBearerAuth()
    .build();
  const document = SwaggerModule.createDocument(app, config, { extraModels: [TapDto, TapVerdictDto] });
  return { ...document, paths: { ...document.paths, ...gateRouteDocs() } };
}

/** GET /docs (Swagger UI) and GET /docs-json. */
export function setUpDocs(app: INestApplication): void {
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
}
