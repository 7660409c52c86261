// Azure Container Apps deployment of params, written by aspirec.
// Deploy: az deployment group create -g GROUP -f main.bicep -p main.parameters.json

@description('Azure region of every resource')
param location string = resourceGroup().location

@description('parameter region')
param region string = 'eu-west-1'

@description('parameter api_key')
@secure()
param api_key string

@description('parameter log_level')
param log_level string = 'info'

// A name part unique to the resource group.
var resourceToken = toLower(uniqueString(resourceGroup().id))

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-${resourceToken}'
  location: location
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource containerAppsEnvironment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: 'cae-${resourceToken}'
  location: location
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logAnalytics.properties.customerId
        sharedKey: logAnalytics.listKeys().primarySharedKey
      }
    }
  }
}

resource app_gateway 'Microsoft.App/containerApps@2024-03-01' = {
  name: 'gateway'
  location: location
  properties: {
    environmentId: containerAppsEnvironment.id
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        targetPort: 80
        transport: 'http'
        allowInsecure: true
      }
      secrets: [
        {
          name: 'api-key'
          value: api_key
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'gateway'
          image: 'docker.io/library/nginx:1.27'
          env: [
            {
              name: 'REGION'
              value: region
            }
            {
              name: 'LOG_LEVEL'
              value: log_level
            }
            {
              name: 'API_KEY'
              secretRef: 'api-key'
            }
            {
              name: 'services__payments__https__0'
              value: 'https://payments.example.com'
            }
            {
              name: 'PAYMENTS_URL'
              value: 'https://payments.example.com'
            }
            {
              name: 'PAYMENTS_URI'
              value: 'https://payments.example.com'
            }
          ]
        }
      ]
      scale: {
        minReplicas: 1
        maxReplicas: 1
      }
    }
  }
}

output GATEWAY_HTTP_URL string = 'https://${app_gateway.properties.configuration.ingress.fqdn}'
