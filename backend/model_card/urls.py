from django.urls import path

from model_card.views import ActiveModelView, ModelAgreementView

urlpatterns = [
    path("", ActiveModelView.as_view(), name="model"),
    path("agreement/", ModelAgreementView.as_view(), name="model-agreement"),
]
